/** Binary WebSocket frames, laid out as documented in test/fixtures/traffic/README.md. */
import { pyJsonDumps } from './python.ts';
import type { PreviewImage } from './nodes/types.ts';

const IMAGE_FORMAT_CODES = { JPEG: 1, PNG: 2 } as const;
const MIME_TYPES = { JPEG: 'image/jpeg', PNG: 'image/png' } as const;

/** Type 1: PREVIEW_IMAGE (what legacy clients get). */
export function previewFrame(image: PreviewImage): Buffer {
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(IMAGE_FORMAT_CODES[image.format], 4);
  return Buffer.concat([header, image.bytes]);
}

/** Type 4: PREVIEW_IMAGE_WITH_METADATA (clients that announced supports_preview_metadata). */
export function previewWithMetadataFrame(image: PreviewImage, promptId: string, nodeId: string): Buffer {
  const metadata = Buffer.from(
    pyJsonDumps({
      node_id: nodeId,
      prompt_id: promptId,
      display_node_id: nodeId,
      parent_node_id: null,
      real_node_id: nodeId,
      image_type: MIME_TYPES[image.format],
    }),
    'utf8',
  );
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(4, 0);
  header.writeUInt32BE(metadata.length, 4);
  return Buffer.concat([header, metadata, image.bytes]);
}

/** Type 3: TEXT, a node's progress text (no prompt id). */
export function textFrame(nodeId: string, text: string): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(3, 0);
  header.writeUInt32BE(id.length, 4);
  return Buffer.concat([header, id, Buffer.from(text, 'utf8')]);
}

/**
 * Decoding of ComfyUI's binary WebSocket frames. Every frame starts with a big-endian uint32
 * event type; the layouts are documented in test/fixtures/traffic/README.md.
 */
export type ImageMime = 'image/jpeg' | 'image/png' | 'image/webp';

export interface PreviewMetadata {
  prompt_id?: string;
  node_id?: string;
  display_node_id?: string;
  parent_node_id?: string | null;
  real_node_id?: string;
  image_type?: string;
  [key: string]: unknown;
}

export type BinaryFrame =
  | { kind: 'preview'; mime: ImageMime; image: Buffer; metadata?: PreviewMetadata }
  | { kind: 'text'; nodeId: string; text: string }
  | { kind: 'unknown'; eventType: number; payload: Buffer };

export const BinaryEventType = {
  previewImage: 1,
  unencodedPreviewImage: 2,
  text: 3,
  previewImageWithMetadata: 4,
} as const;

/** Largest metadata or node-id header we accept inside a frame (real ones are a few hundred bytes). */
const MAX_HEADER_BYTES = 64 * 1024;

export class MalformedFrameError extends Error {}

const IMAGE_FORMATS: Record<number, ImageMime> = { 1: 'image/jpeg', 2: 'image/png' };

function mimeFromImageType(imageType: unknown, image: Buffer): ImageMime {
  if (imageType === 'image/png' || imageType === 'image/jpeg' || imageType === 'image/webp') return imageType;
  return sniffImageMime(image) ?? 'image/jpeg';
}

export function sniffImageMime(bytes: Buffer): ImageMime | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') {
    return 'image/webp';
  }
  return undefined;
}

function readLengthPrefixed(frame: Buffer, what: string): { header: Buffer; rest: Buffer } {
  if (frame.length < 8) throw new MalformedFrameError(`${what} frame too short (${frame.length} bytes)`);
  const length = frame.readUInt32BE(4);
  if (length > MAX_HEADER_BYTES || 8 + length > frame.length) {
    throw new MalformedFrameError(`${what} frame declares ${length} header bytes but has ${frame.length - 8}`);
  }
  return { header: frame.subarray(8, 8 + length), rest: frame.subarray(8 + length) };
}

export function decodeBinaryFrame(frame: Buffer): BinaryFrame {
  if (frame.length < 4) throw new MalformedFrameError(`binary frame of ${frame.length} bytes has no event type`);
  const eventType = frame.readUInt32BE(0);
  switch (eventType) {
    case BinaryEventType.previewImage: {
      if (frame.length < 8) throw new MalformedFrameError('preview frame has no image format');
      const image = frame.subarray(8);
      if (image.length === 0) throw new MalformedFrameError('preview frame has no image bytes');
      const mime = IMAGE_FORMATS[frame.readUInt32BE(4)] ?? sniffImageMime(image) ?? 'image/jpeg';
      return { kind: 'preview', mime, image };
    }
    case BinaryEventType.previewImageWithMetadata: {
      const { header, rest } = readLengthPrefixed(frame, 'preview-with-metadata');
      let metadata: PreviewMetadata;
      try {
        metadata = JSON.parse(header.toString('utf8')) as PreviewMetadata;
      } catch {
        throw new MalformedFrameError('preview metadata is not JSON');
      }
      if (typeof metadata !== 'object' || metadata === null) throw new MalformedFrameError('preview metadata is not an object');
      if (rest.length === 0) throw new MalformedFrameError('preview frame has no image bytes');
      return { kind: 'preview', mime: mimeFromImageType(metadata.image_type, rest), image: rest, metadata };
    }
    case BinaryEventType.text: {
      const { header, rest } = readLengthPrefixed(frame, 'text');
      return { kind: 'text', nodeId: header.toString('utf8'), text: rest.toString('utf8') };
    }
    default:
      return { kind: 'unknown', eventType, payload: frame.subarray(4) };
  }
}

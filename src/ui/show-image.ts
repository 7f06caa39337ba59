/** `--show`: one finished image drawn once, below the output, with the chosen protocol. */
import type { ImageMime } from '../client/binary.ts';
import { sniffImageMime } from '../client/binary.ts';
import { decodeImage, type CellSize } from './preview/decode.ts';
import type { PreviewChoice } from './preview/detect.ts';
import { createPreviewRenderer } from './preview/render.ts';

/** The text that draws the image and leaves the cursor on the line below it; '' when nothing can be drawn. */
export function renderImage(bytes: Uint8Array, choice: PreviewChoice, box: CellSize, mime?: ImageMime): string {
  const renderer = createPreviewRenderer(choice);
  const type = mime ?? sniffImageMime(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (!renderer || !type) return '';
  const pixels = renderer.needsPixels(type) ? decodeImage(type, bytes) : undefined;
  const rendered = renderer.render({ mime: type, bytes, pixels }, box);
  if (!rendered) return '';
  if (rendered.lines) return `${rendered.lines.join('\n')}\n`;
  // Make the rows first (scrolling now), then draw at their top and step below.
  const rows = rendered.rows;
  return `${'\n'.repeat(rows)}\x1b[${rows}A\r\x1b7${rendered.draw ?? ''}\x1b8\x1b[${rows}B\r`;
}

export function showImage(stream: { write(text: string): unknown }, bytes: Uint8Array, choice: PreviewChoice, box: CellSize, mime?: ImageMime): boolean {
  const text = renderImage(bytes, choice, box, mime);
  if (text) stream.write(text);
  return text !== '';
}

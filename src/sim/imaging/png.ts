/**
 * PNG encoding on node:zlib (native deflate; large images are compressed on the thread pool so
 * the event loop keeps serving requests), with tEXt chunks like the metadata ComfyUI writes.
 */
import { crc32, deflate, deflateSync } from 'node:zlib';
import { promisify } from 'node:util';
import { decode } from 'fast-png';

const deflateAsync = promisify(deflate);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Below this many bytes, compressing inline is cheaper than a trip to the thread pool. */
const INLINE_DEFLATE_BYTES = 256 * 1024;

/** One PNG chunk: length, type, data and the CRC of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Scanlines with the "Sub" filter: smooth pictures compress far better than unfiltered. */
function filterRows(pixels: Uint8Array, width: number, height: number, channels: number): Buffer {
  const stride = width * channels;
  const out = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const src = y * stride;
    const dst = y * (stride + 1);
    out[dst] = 1;
    for (let x = 0; x < channels && x < stride; x++) out[dst + 1 + x] = pixels[src + x] ?? 0;
    for (let x = channels; x < stride; x++) out[dst + 1 + x] = ((pixels[src + x] ?? 0) - (pixels[src + x - channels] ?? 0)) & 0xff;
  }
  return out;
}

export interface PngOptions {
  /** zlib level: ComfyUI uses 4 for SaveImage, 1 for previews. */
  level: number;
  /** tEXt chunks, in order (keys and values must be Latin-1). */
  text?: [key: string, value: string][];
}

export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: 3 | 4, options: PngOptions): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 4 ? 6 : 2;
  const raw = filterRows(pixels, width, height, channels);
  const compressed = raw.length < INLINE_DEFLATE_BYTES ? deflateSync(raw, { level: options.level }) : await deflateAsync(raw, { level: options.level });
  const parts = [SIGNATURE, pngChunk('IHDR', header)];
  for (const [key, value] of options.text ?? []) parts.push(pngChunk('tEXt', Buffer.from(`${key}\0${value}`, 'latin1')));
  parts.push(pngChunk('IDAT', compressed), pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export interface DecodedImage {
  width: number;
  height: number;
  /** RGB or RGBA bytes. */
  channels: 3 | 4;
  pixels: Uint8Array;
}

/** Decodes any PNG to 8-bit RGB or RGBA. */
export function decodePng(bytes: Uint8Array): DecodedImage {
  const png = decode(bytes);
  const { width, height } = png;
  const count = width * height;
  const source = png.data;
  const hasAlpha = png.channels === 2 || png.channels === 4 || (png.palette !== undefined && png.transparency !== undefined);
  const channels: 3 | 4 = hasAlpha ? 4 : 3;
  const pixels = new Uint8Array(count * channels);
  const scale = png.depth === 16 ? 1 / 257 : png.depth < 8 && png.palette === undefined ? 255 / (2 ** png.depth - 1) : 1;
  const sample = (index: number): number => Math.round((source[index] ?? 0) * scale);
  for (let i = 0; i < count; i++) {
    const out = i * channels;
    if (png.palette) {
      const entry = png.palette[source[i] ?? 0] ?? [0, 0, 0];
      pixels[out] = entry[0] ?? 0;
      pixels[out + 1] = entry[1] ?? 0;
      pixels[out + 2] = entry[2] ?? 0;
      if (channels === 4) pixels[out + 3] = entry[3] ?? png.transparency?.[source[i] ?? 0] ?? 255;
      continue;
    }
    const base = i * png.channels;
    if (png.channels <= 2) {
      const gray = sample(base);
      pixels[out] = gray;
      pixels[out + 1] = gray;
      pixels[out + 2] = gray;
      if (channels === 4) pixels[out + 3] = sample(base + 1);
    } else {
      pixels[out] = sample(base);
      pixels[out + 1] = sample(base + 1);
      pixels[out + 2] = sample(base + 2);
      if (channels === 4) pixels[out + 3] = sample(base + 3);
    }
  }
  return { width, height, channels, pixels };
}

/** JPEG for sampler previews (own encoder) and uploaded JPEGs (jpeg-js decoder). */
import jpeg from 'jpeg-js';
import { encodeJpegBaseline } from './jpeg-encoder.ts';
import type { DecodedImage } from './png.ts';

/** Encodes RGBA pixels (alpha ignored). */
export function encodeJpeg(rgba: Uint8Array, width: number, height: number, quality: number): Buffer {
  return encodeJpegBaseline(rgba, width, height, quality, 4);
}

export function decodeJpeg(bytes: Uint8Array): DecodedImage {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
  return { width: image.width, height: image.height, channels: 3, pixels: image.data };
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

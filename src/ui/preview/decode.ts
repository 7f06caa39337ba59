/**
 * Encoded image → RGBA pixels, and the cheap resampling the terminal encoders need. Pure JS
 * (jpeg-js, fast-png) so it works everywhere; a 512² JPEG preview takes about 10 ms.
 */
import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import type { ImageMime } from '../../client/binary.ts';

/** 8-bit RGBA, rows top to bottom, no padding. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface CellSize {
  cols: number;
  rows: number;
}

export class UnsupportedImageError extends Error {}

/** Previews are small; this keeps a hostile or broken frame from allocating gigabytes. */
const MAX_MEGAPIXELS = 64;

export function decodeImage(mime: ImageMime, bytes: Uint8Array): RgbaImage {
  if (mime === 'image/jpeg') {
    const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
    return { width: image.width, height: image.height, data: image.data };
  }
  if (mime === 'image/png') return pngToRgba(decodePng(bytes));
  throw new UnsupportedImageError(`cannot decode ${mime} previews`);
}

function pngToRgba(png: ReturnType<typeof decodePng>): RgbaImage {
  const { width, height } = png;
  if (width * height > MAX_MEGAPIXELS * 1_000_000) throw new UnsupportedImageError(`PNG of ${width}×${height} is too large to preview`);
  let data = png.data;
  let channels = png.channels;
  let depth: number = png.depth;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
    depth = 8;
  }
  const out = new Uint8Array(width * height * 4);
  const shift = depth === 16 ? 8 : 0;
  for (let i = 0, o = 0; o < out.length; i += channels, o += 4) {
    const a = (data[i] ?? 0) >> shift;
    if (channels <= 2) {
      out[o] = out[o + 1] = out[o + 2] = a;
      out[o + 3] = channels === 2 ? (data[i + 1] ?? 0) >> shift : 255;
    } else {
      out[o] = a;
      out[o + 1] = (data[i + 1] ?? 0) >> shift;
      out[o + 2] = (data[i + 2] ?? 0) >> shift;
      out[o + 3] = channels === 4 ? (data[i + 3] ?? 0) >> shift : 255;
    }
  }
  if (depth < 8 && !png.palette) {
    // Grey images of 1, 2 or 4 bits: stretch the levels to 0–255.
    const scale = 255 / ((1 << depth) - 1);
    for (let o = 0; o < out.length; o += 4) {
      out[o] = out[o + 1] = out[o + 2] = Math.round((out[o] ?? 0) * scale);
    }
  }
  return { width, height, data: out };
}

/**
 * Resamples to exactly width×height: the average of the covered source pixels when shrinking
 * (no aliasing on the fine noise of sampler previews), the nearest pixel when enlarging.
 */
export function scaleImage(image: RgbaImage, width: number, height: number): RgbaImage {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  if (w === image.width && h === image.height) return image;
  const src = image.data;
  const out = new Uint8Array(w * h * 4);
  const xStart = spans(image.width, w);
  const yStart = spans(image.height, h);
  for (let y = 0; y < h; y++) {
    const y0 = yStart[y] ?? 0;
    const y1 = Math.max(y0 + 1, yStart[y + 1] ?? image.height);
    for (let x = 0; x < w; x++) {
      const x0 = xStart[x] ?? 0;
      const x1 = Math.max(x0 + 1, xStart[x + 1] ?? image.width);
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = y0; sy < y1; sy++) {
        let i = (sy * image.width + x0) * 4;
        for (let sx = x0; sx < x1; sx++, i += 4) {
          r += src[i] ?? 0;
          g += src[i + 1] ?? 0;
          b += src[i + 2] ?? 0;
          a += src[i + 3] ?? 0;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * w + x) * 4;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
      out[o + 3] = Math.round(a / n);
    }
  }
  return { width: w, height: h, data: out };
}

/** First source index covered by each target index (plus the end), for both shrinking and enlarging. */
function spans(source: number, target: number): Int32Array {
  const starts = new Int32Array(target + 1);
  for (let i = 0; i <= target; i++) starts[i] = Math.min(source - 1, Math.floor((i * source) / target));
  starts[target] = source;
  return starts;
}

/**
 * The largest cell box with the image's aspect ratio inside maxCols×maxRows. `cellAspect` is a
 * cell's height over its width (about 2 in most terminal fonts).
 */
export function fitCells(pixelWidth: number, pixelHeight: number, maxCols: number, maxRows: number, cellAspect = 2): CellSize {
  const cols0 = Math.max(1, Math.floor(maxCols));
  const rows0 = Math.max(1, Math.floor(maxRows));
  if (!(pixelWidth > 0) || !(pixelHeight > 0)) return { cols: cols0, rows: rows0 };
  const ratio = pixelHeight / pixelWidth / cellAspect;
  let cols = cols0;
  let rows = Math.max(1, Math.round(cols * ratio));
  if (rows > rows0) {
    rows = rows0;
    cols = Math.max(1, Math.min(cols0, Math.round(rows / ratio)));
  }
  return { cols, rows };
}

/** Alpha-blends over black: what a transparent pixel looks like on a dark terminal. */
export function flattenAlpha(image: RgbaImage): RgbaImage {
  const { data } = image;
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return image;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = (data[i + 3] ?? 255) / 255;
    out[i] = Math.round((data[i] ?? 0) * a);
    out[i + 1] = Math.round((data[i + 1] ?? 0) * a);
    out[i + 2] = Math.round((data[i + 2] ?? 0) * a);
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}

/**
 * Sixel (xterm -ti vt340, foot, mlterm, WezTerm, Windows Terminal, …) through the `sixel`
 * package: at most 256 colours, size in pixels, so the cell size in pixels matters.
 */
import { createRequire } from 'node:module';
import { flattenAlpha, scaleImage, type CellSize, type RgbaImage } from './decode.ts';

export interface PixelSize {
  width: number;
  height: number;
}

/**
 * Cell size assumed when the terminal does not tell. On the small side: an image sized for
 * smaller cells than the real ones leaves a margin, one sized for larger cells would spill over
 * the status rows below it.
 */
export const DEFAULT_CELL_PIXELS: PixelSize = { width: 8, height: 16 };

/** Quantizing costs about 1 ms per 4000 pixels here: keep previews near 384 px. */
const MAX_SIDE = 384;

/** Pixel size that fills cols×rows cells (capped), its height a multiple of a sixel band (6 px). */
export function sixelPixelSize(cells: CellSize, cellPixels: PixelSize = DEFAULT_CELL_PIXELS, maxSide = MAX_SIDE): PixelSize {
  let width = cells.cols * cellPixels.width;
  let height = cells.rows * cellPixels.height;
  const scale = Math.min(1, maxSide / Math.max(width, height));
  width = Math.max(1, Math.floor(width * scale));
  height = Math.max(6, Math.floor((height * scale) / 6) * 6);
  return { width, height };
}

type Image2Sixel = (data: Uint8Array, width: number, height: number, maxColors?: number, backgroundSelect?: 0 | 1 | 2) => string;
let image2sixel: Image2Sixel | undefined;

/**
 * Loaded on first use, through Node's own loader: its quantizer assigns an undeclared global,
 * which breaks once a bundler puts it in strict-mode code, and only sixel terminals need it.
 */
function loadEncoder(): Image2Sixel {
  image2sixel ??= (createRequire(import.meta.url)('sixel') as typeof import('sixel')).image2sixel;
  return image2sixel;
}

export function encodeSixel(image: RgbaImage, cells: CellSize, options: { cellPixels?: PixelSize; maxColors?: number; maxSide?: number } = {}): string {
  const size = sixelPixelSize(cells, options.cellPixels, options.maxSide);
  const pixels = flattenAlpha(scaleImage(image, size.width, size.height));
  return loadEncoder()(pixels.data, pixels.width, pixels.height, Math.min(256, options.maxColors ?? 256), 0);
}

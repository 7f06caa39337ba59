/**
 * Images from text: each cell is `▀` with the upper pixel as foreground and the lower one as
 * background colour, so a cell shows two square-ish pixels. Works in every colour terminal,
 * tmux included.
 */
import { flattenAlpha, scaleImage, type CellSize, type RgbaImage } from './decode.ts';

export type BlockColors = 'truecolor' | '256';

const UPPER_HALF = '▀';
const RESET = '\x1b[0m';

/** One string per terminal row, each exactly `cells.cols` columns wide and ending with a reset. */
export function encodeBlocks(image: RgbaImage, cells: CellSize, colors: BlockColors = 'truecolor'): string[] {
  const cols = Math.max(1, Math.floor(cells.cols));
  const rows = Math.max(1, Math.floor(cells.rows));
  const pixels = flattenAlpha(scaleImage(image, cols, rows * 2)).data;
  const color = colors === 'truecolor' ? truecolor : ansi256;
  const lines: string[] = [];
  for (let row = 0; row < rows; row++) {
    let line = '';
    let lastFg = '';
    let lastBg = '';
    for (let col = 0; col < cols; col++) {
      const top = (row * 2 * cols + col) * 4;
      const bottom = top + cols * 4;
      const fg = color(pixels, top);
      const bg = color(pixels, bottom);
      // Neighbouring cells often share a colour: repeat only what changed.
      const codes = [fg === lastFg ? '' : `38;${fg}`, bg === lastBg ? '' : `48;${bg}`].filter(Boolean).join(';');
      if (codes) line += `\x1b[${codes}m`;
      line += UPPER_HALF;
      lastFg = fg;
      lastBg = bg;
    }
    lines.push(line + RESET);
  }
  return lines;
}

function truecolor(pixels: Uint8Array, i: number): string {
  return `2;${pixels[i] ?? 0};${pixels[i + 1] ?? 0};${pixels[i + 2] ?? 0}`;
}

function ansi256(pixels: Uint8Array, i: number): string {
  return `5;${nearestAnsi256(pixels[i] ?? 0, pixels[i + 1] ?? 0, pixels[i + 2] ?? 0)}`;
}

/** Levels of the 6×6×6 colour cube (indices 16–231) of the xterm palette. */
export const CUBE_LEVELS = [0, 95, 135, 175, 215, 255] as const;

/** The closest xterm-256 colour: the best of the colour cube and the grey ramp (232–255). */
export function nearestAnsi256(r: number, g: number, b: number): number {
  const ri = nearestLevel(r);
  const gi = nearestLevel(g);
  const bi = nearestLevel(b);
  const cube = 16 + 36 * ri + 6 * gi + bi;
  const cubeError = distance(r, g, b, CUBE_LEVELS[ri] ?? 0, CUBE_LEVELS[gi] ?? 0, CUBE_LEVELS[bi] ?? 0);
  const grey = Math.max(0, Math.min(23, Math.round(((r + g + b) / 3 - 8) / 10)));
  const greyLevel = 8 + grey * 10;
  const greyError = distance(r, g, b, greyLevel, greyLevel, greyLevel);
  return greyError < cubeError ? 232 + grey : cube;
}

/** The RGB value of an xterm-256 colour index from 16 up. */
export function ansi256ToRgb(index: number): [number, number, number] {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return [level, level, level];
  }
  const n = index - 16;
  return [CUBE_LEVELS[Math.floor(n / 36)] ?? 0, CUBE_LEVELS[Math.floor(n / 6) % 6] ?? 0, CUBE_LEVELS[n % 6] ?? 0];
}

function nearestLevel(value: number): number {
  let best = 0;
  for (let i = 1; i < CUBE_LEVELS.length; i++) {
    if (Math.abs(value - (CUBE_LEVELS[i] ?? 0)) < Math.abs(value - (CUBE_LEVELS[best] ?? 0))) best = i;
  }
  return best;
}

function distance(r1: number, g1: number, b1: number, r2: number, g2: number, b2: number): number {
  return (r1 - r2) ** 2 + (g1 - g2) ** 2 + (b1 - b2) ** 2;
}

/**
 * kitty graphics protocol (also ghostty, WezTerm, Konsole). PNG bytes are sent as they are
 * (`f=100`); anything else goes as raw RGB compressed with zlib (`f=24,o=z`). The payload is
 * base64 in chunks of at most 4096 characters (`m=1` on every chunk but the last). `q=2` keeps
 * the terminal from answering on stdin, `C=1` keeps the cursor where it was.
 */
import { deflateSync } from 'node:zlib';
import type { CellSize, RgbaImage } from './decode.ts';

export type KittySource = { png: Uint8Array } | { pixels: RgbaImage };

const CHUNK = 4096;

function command(keys: string, payload = ''): string {
  return `\x1b_G${keys}${payload ? `;${payload}` : ''}\x1b\\`;
}

function rgbOf(image: RgbaImage): Uint8Array {
  const rgb = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, o = 0; o < rgb.length; i += 4, o += 3) {
    rgb[o] = image.data[i] ?? 0;
    rgb[o + 1] = image.data[i + 1] ?? 0;
    rgb[o + 2] = image.data[i + 2] ?? 0;
  }
  return rgb;
}

/** Transmits the image under `id` and shows it at the cursor over cols×rows cells. */
export function encodeKitty(source: KittySource, cells: CellSize, options: { id: number }): string {
  let keys: string;
  let payload: Buffer;
  if ('png' in source) {
    keys = 'f=100';
    payload = Buffer.from(source.png.buffer, source.png.byteOffset, source.png.byteLength);
  } else {
    keys = `f=24,s=${source.pixels.width},v=${source.pixels.height},o=z`;
    // Level 1: the terminal is local, speed matters more than the last few percent of size.
    payload = deflateSync(rgbOf(source.pixels), { level: 1 });
  }
  const base64 = payload.toString('base64');
  const first = `a=T,${keys},i=${options.id},c=${cells.cols},r=${cells.rows},C=1,q=2`;
  let out = '';
  for (let at = 0; at < base64.length || at === 0; at += CHUNK) {
    const chunk = base64.slice(at, at + CHUNK);
    const more = at + CHUNK < base64.length ? 1 : 0;
    out += command(at === 0 ? `${first},m=${more}` : `m=${more}`, chunk);
  }
  return out;
}

/** Shows the already transmitted image `id` again at the cursor (after the area moved). */
export function placeKitty(id: number, cells: CellSize): string {
  return command(`a=p,i=${id},c=${cells.cols},r=${cells.rows},C=1,q=2`);
}

/** Removes the image from the screen; with `free` the terminal also drops its data. */
export function deleteKitty(id: number, options: { free: boolean }): string {
  return command(`a=d,d=${options.free ? 'I' : 'i'},i=${id},q=2`);
}

/**
 * The text entries of an EXIF block's first directory (IFD0). ComfyUI's WebP savers store
 * `prompt:{json}` in tag 0x0110 (Model) and each extra_pnginfo key as `key:{json}` in 0x010F
 * (Make), 0x010E, … counting down.
 */
import type { ByteSource } from './bytes.ts';
import { corrupt, decodeText, type EmbeddedText } from './problems.ts';

const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');
const TEXT_TYPES = new Set([1, 2, 7]); // BYTE, ASCII, UNDEFINED

export function exifEntries(block: Buffer, source: ByteSource, format: string): EmbeddedText[] {
  const tiff = block.subarray(0, 6).equals(EXIF_PREFIX) ? block.subarray(6) : block;
  const order = tiff.toString('latin1', 0, 2);
  if ((order !== 'II' && order !== 'MM') || tiff.length < 8) throw corrupt(source, format, 'its EXIF block has no TIFF header');
  const little = order === 'II';
  const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) throw corrupt(source, format, 'its EXIF block has no TIFF header');
  const directory = u32(4);
  if (directory + 2 > tiff.length) throw corrupt(source, format, 'its EXIF directory lies outside the EXIF block');
  const count = u16(directory);
  if (directory + 2 + count * 12 > tiff.length) throw corrupt(source, format, 'its EXIF directory runs past the end of the EXIF block');

  const entries: EmbeddedText[] = [];
  for (let i = 0; i < count; i++) {
    const at = directory + 2 + i * 12;
    const tag = u16(at);
    const type = u16(at + 2);
    const length = u32(at + 4);
    if (!TEXT_TYPES.has(type)) continue;
    const start = length <= 4 ? at + 8 : u32(at + 8);
    if (start + length > tiff.length) throw corrupt(source, format, `EXIF tag 0x${tag.toString(16).padStart(4, '0')} points outside the EXIF block`);
    const value = decodeText(tiff.subarray(start, start + length)).replace(/\0+$/, '');
    const colon = value.indexOf(':');
    if (colon < 1 || /\s/.test(value.slice(0, colon))) continue;
    entries.push({ key: value.slice(0, colon), text: value.slice(colon + 1), where: `EXIF tag 0x${tag.toString(16).padStart(4, '0')}` });
  }
  return entries;
}

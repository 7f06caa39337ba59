/** WebP (RIFF): the EXIF chunk where ComfyUI's SaveAnimatedWEBP puts the prompt and workflow. */
import type { ByteSource } from './bytes.ts';
import { exifEntries } from './exif.ts';
import { corrupt, readExactly, truncated, type EmbeddedText, type MediaMetadata } from './problems.ts';

export function isWebp(head: Buffer): boolean {
  return head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP';
}

export async function readWebp(source: ByteSource): Promise<MediaMetadata> {
  const header = await source.read(0, 12);
  const riffEnd = 8 + header.readUInt32LE(4);
  if (riffEnd > source.size) throw truncated(source, 'WebP', `its RIFF header announces ${riffEnd} bytes, the file has ${source.size}`);
  const entries: EmbeddedText[] = [];
  let offset = 12;
  while (offset + 8 <= riffEnd) {
    const chunk = await source.read(offset, 8);
    const type = chunk.toString('latin1', 0, 4);
    const length = chunk.readUInt32LE(4);
    if (!/^[\x20-\x7e]{4}$/.test(type)) throw corrupt(source, 'WebP', `the chunk header at byte ${offset} is not valid`);
    const end = offset + 8 + length + (length % 2);
    if (offset + 8 + length > riffEnd) throw corrupt(source, 'WebP', `the ${type.trim()} chunk at byte ${offset} runs past the end of the RIFF data`);
    if (type === 'EXIF') entries.push(...exifEntries(await readExactly(source, 'WebP', offset + 8, length, 'EXIF chunk'), source, 'WebP'));
    offset = end;
  }
  return { format: 'WebP', kind: 'image', entries };
}

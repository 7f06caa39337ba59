/** Which container a file is, from its first bytes (never from its name). */
import type { ByteSource } from './bytes.ts';
import { readFlac } from './flac.ts';
import { isId3, readId3 } from './id3.ts';
import { isIsobmff, readIsobmff } from './isobmff.ts';
import { EBML_MAGIC, readMatroska } from './matroska.ts';
import { readOgg } from './ogg.ts';
import { PNG_SIGNATURE, readPng } from './png.ts';
import type { MediaMetadata } from './problems.ts';
import { isWebp, readWebp } from './webp.ts';

/** How many bytes of the start of a file `detectMedia` looks at. */
export const HEAD_BYTES = 64;

export type MediaReader = (source: ByteSource) => Promise<MediaMetadata>;

/** Formats ComfyUI never embeds a workflow in: recognised only to say so. */
function withoutMetadata(format: string, kind: MediaMetadata['kind']): MediaReader {
  return async () => ({ format, kind, entries: [] });
}

function isMpegAudioFrame(head: Buffer): boolean {
  return head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0 && ((head[1] ?? 0) & 0x06) !== 0;
}

/** An ID3 tag starts MP3 files, and some FLAC files: what follows it decides. */
async function readId3Tagged(source: ByteSource): Promise<MediaMetadata> {
  const tag = await readId3(source, 'MP3');
  const next = await source.read(tag.end, 4);
  if (next.toString('latin1') === 'fLaC') {
    const flac = await readFlac(source, tag.end);
    return { ...flac, entries: [...tag.entries, ...flac.entries] };
  }
  return { format: 'MP3', kind: 'audio', entries: tag.entries };
}

export function detectMedia(head: Buffer): MediaReader | undefined {
  const ascii = head.toString('latin1', 0, 12);
  // A PNG cut inside its signature is still a (truncated) PNG.
  if (head.length >= 4 && head.subarray(0, 8).equals(PNG_SIGNATURE.subarray(0, Math.min(8, head.length)))) return readPng;
  if (isWebp(head)) return readWebp;
  if (head.subarray(0, 4).equals(EBML_MAGIC)) return readMatroska;
  if (ascii.startsWith('fLaC')) return readFlac;
  if (ascii.startsWith('OggS')) return readOgg;
  if (isId3(head)) return readId3Tagged;
  if (isIsobmff(head)) return readIsobmff;
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return withoutMetadata('JPEG', 'image');
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return withoutMetadata('GIF', 'image');
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return withoutMetadata('TIFF', 'image');
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WAVE') return withoutMetadata('WAV', 'audio');
  if (isMpegAudioFrame(head)) return withoutMetadata('MP3', 'audio');
  return undefined;
}

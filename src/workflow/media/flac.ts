/** FLAC: the VORBIS_COMMENT metadata block, read after walking the block headers. */
import type { ByteSource } from './bytes.ts';
import { corrupt, readExactly, truncated, type EmbeddedText, type MediaMetadata } from './problems.ts';
import { vorbisComments } from './vorbis-comment.ts';

const VORBIS_COMMENT = 4;
const INVALID_BLOCK = 127;

/** Reads the metadata blocks of the FLAC stream that starts at `start` (after any ID3 tag). */
export async function readFlac(source: ByteSource, start = 0): Promise<MediaMetadata> {
  const entries: EmbeddedText[] = [];
  let offset = start + 4;
  for (;;) {
    const header = await source.read(offset, 4);
    if (header.length < 4) throw truncated(source, 'FLAC', `it ends inside the metadata block header at byte ${offset}`);
    const last = (header[0] ?? 0) & 0x80;
    const type = (header[0] ?? 0) & 0x7f;
    const length = header.readUIntBE(1, 3);
    if (type === INVALID_BLOCK) throw corrupt(source, 'FLAC', `the metadata block at byte ${offset} has an invalid type`);
    if (offset + 4 + length > source.size) throw truncated(source, 'FLAC', `it ends inside the metadata block at byte ${offset}`);
    if (type === VORBIS_COMMENT) entries.push(...vorbisComments(await readExactly(source, 'FLAC', offset + 4, length, 'comment block'), source, 'FLAC'));
    offset += 4 + length;
    if (last) break;
  }
  return { format: 'FLAC', kind: 'audio', entries };
}

/** What the container readers share: their result, reading with bounds, and the errors for damaged files. */
import { PyrosError } from '../../errors.ts';
import type { ByteSource } from './bytes.ts';

/** One piece of text stored in a file's metadata: its key and where it was found. */
export interface EmbeddedText {
  key: string;
  text: string;
  /** For messages: `tEXt chunk`, `EXIF tag 0x0110`, `Vorbis comment`, … */
  where: string;
}

export type MediaKind = 'image' | 'video' | 'audio';

export interface MediaMetadata {
  /** What the file is, for messages: `PNG`, `animated PNG`, `WebP`, `MP4`, `WebM`, `FLAC`, … */
  format: string;
  kind: MediaKind;
  entries: EmbeddedText[];
}

/** A workflow is a few megabytes at most; a metadata block claiming more is damage, not data. */
export const MAX_METADATA_BYTES = 64 * 1024 * 1024;

export function truncated(source: ByteSource, format: string, detail: string): PyrosError {
  return new PyrosError('usage', `${source.name} is a truncated ${format} file: ${detail}.`, { reason: 'media-truncated', fields: { file: source.name } });
}

export function corrupt(source: ByteSource, format: string, detail: string): PyrosError {
  return new PyrosError('usage', `${source.name} is a damaged ${format} file: ${detail}.`, { reason: 'media-damaged', fields: { file: source.name } });
}

/** Exactly `length` bytes at `offset` (a truncation error otherwise), for metadata of bounded size. */
export async function readExactly(source: ByteSource, format: string, offset: number, length: number, what: string): Promise<Buffer> {
  if (length > MAX_METADATA_BYTES) throw corrupt(source, format, `the ${what} at byte ${offset} claims ${length} bytes`);
  const bytes = await source.read(offset, length);
  if (bytes.length < length) throw truncated(source, format, `it ends inside the ${what} at byte ${offset}`);
  return bytes;
}

/** UTF-8 when the bytes are valid UTF-8, else Latin-1 (what older writers put in text fields). */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

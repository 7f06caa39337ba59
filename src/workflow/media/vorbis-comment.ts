/**
 * Vorbis comments (`KEY=value`, UTF-8, keys case-insensitive): the tags of FLAC and Ogg files.
 * ComfyUI's SaveAudio variants set `prompt` and `workflow` (and any other extra_pnginfo key) on
 * the container through PyAV, and FFmpeg writes them as comments.
 */
import type { ByteSource } from './bytes.ts';
import { corrupt, type EmbeddedText } from './problems.ts';

export function vorbisComments(bytes: Buffer, source: ByteSource, format: string): EmbeddedText[] {
  const malformed = (): Error => corrupt(source, format, 'its comment block is malformed');
  if (bytes.length < 8) throw malformed();
  let at = 4 + bytes.readUInt32LE(0);
  if (at + 4 > bytes.length) throw malformed();
  const count = bytes.readUInt32LE(at);
  at += 4;
  const entries: EmbeddedText[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw malformed();
    const length = bytes.readUInt32LE(at);
    if (at + 4 + length > bytes.length) throw malformed();
    const comment = bytes.toString('utf8', at + 4, at + 4 + length);
    at += 4 + length;
    const equals = comment.indexOf('=');
    if (equals > 0) entries.push({ key: comment.slice(0, equals), text: comment.slice(equals + 1), where: 'Vorbis comment' });
  }
  return entries;
}

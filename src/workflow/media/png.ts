/**
 * PNG and animated PNG: the text chunks ComfyUI writes. SaveImage stores `prompt` and every
 * extra_pnginfo key (`workflow`, …) as tEXt chunks before the image data; SaveAnimatedPNG stores
 * them in private `comf` chunks (keyword, NUL, text) after the frames. zTXt and iTXt (compressed
 * or not) are read too, as other writers use them.
 */
import { crc32, inflateSync } from 'node:zlib';
import type { ByteSource } from './bytes.ts';
import { corrupt, decodeText, MAX_METADATA_BYTES, readExactly, truncated, type EmbeddedText, type MediaMetadata } from './problems.ts';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Chunks read whole and CRC-checked. Image data (IDAT, fdAT) is skipped unread: it can be large
 * and a damaged frame does not change the workflow.
 */
const READ_CHUNKS = new Set(['IHDR', 'acTL', 'tEXt', 'zTXt', 'iTXt', 'comf', 'IEND']);

function splitKeyword(data: Buffer): [keyword: string, rest: Buffer] | undefined {
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79) return undefined;
  return [data.subarray(0, nul).toString('latin1'), data.subarray(nul + 1)];
}

function inflate(data: Buffer): Buffer {
  return inflateSync(data, { maxOutputLength: MAX_METADATA_BYTES });
}

/** The keyword and text of a text chunk, or a description of what is wrong with it. */
function textOf(type: string, data: Buffer): { key: string; text: string } | string {
  const split = splitKeyword(data);
  if (!split) return 'its keyword is missing or longer than 79 bytes';
  const [key, rest] = split;
  if (type === 'tEXt' || type === 'comf') return { key, text: decodeText(rest) };
  if (type === 'zTXt') {
    if (rest[0] !== 0) return `its compression method ${rest[0] ?? '(none)'} is unknown`;
    return { key, text: decodeText(inflate(rest.subarray(1))) };
  }
  // iTXt: compression flag, method, language tag NUL, translated keyword NUL, UTF-8 text.
  const compressed = rest[0] === 1;
  if (compressed && rest[1] !== 0) return `its compression method ${rest[1] ?? '(none)'} is unknown`;
  const languageEnd = rest.indexOf(0, 2);
  const translatedEnd = languageEnd < 0 ? -1 : rest.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return 'its language tag or translated keyword is not terminated';
  const body = rest.subarray(translatedEnd + 1);
  return { key, text: (compressed ? inflate(body) : body).toString('utf8') };
}

export async function readPng(source: ByteSource): Promise<MediaMetadata> {
  const entries: EmbeddedText[] = [];
  let animated = false;
  let offset = PNG_SIGNATURE.length;
  for (let index = 0; ; index++) {
    const header = await source.read(offset, 8);
    if (header.length < 8) throw truncated(source, 'PNG', offset >= source.size ? `it ends at byte ${source.size}, before the IEND chunk that closes a PNG` : `it ends inside a chunk header at byte ${offset}`);
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (!/^[A-Za-z]{4}$/.test(type) || length > 0x7fffffff) throw corrupt(source, 'PNG', `the chunk header at byte ${offset} is not valid`);
    if (index === 0 && type !== 'IHDR') throw corrupt(source, 'PNG', `the first chunk is ${type}, not IHDR`);
    const end = offset + 12 + length;
    if (end > source.size) throw truncated(source, 'PNG', `it ends inside the ${type} chunk at byte ${offset}`);
    if (READ_CHUNKS.has(type)) {
      const body = await readExactly(source, 'PNG', offset + 4, length + 8, `${type} chunk`);
      if (crc32(body.subarray(0, 4 + length)) !== body.readUInt32BE(4 + length)) {
        throw corrupt(source, 'PNG', `the ${type} chunk at byte ${offset} fails its CRC check`);
      }
      const data = body.subarray(4, 4 + length);
      if (type === 'IEND') break;
      if (type === 'acTL') animated = true;
      if (type !== 'IHDR' && type !== 'acTL') {
        let text: ReturnType<typeof textOf>;
        try {
          text = textOf(type, data);
        } catch (error) {
          throw corrupt(source, 'PNG', `the ${type} chunk at byte ${offset} does not decompress (${(error as Error).message})`);
        }
        if (typeof text === 'string') throw corrupt(source, 'PNG', `the ${type} chunk at byte ${offset} is malformed: ${text}`);
        entries.push({ ...text, where: `${type} chunk` });
      }
    }
    offset = end;
  }
  return { format: animated ? 'animated PNG' : 'PNG', kind: 'image', entries };
}

/**
 * ID3v2 tags (at the start of MP3 files). ComfyUI's SaveAudioMP3 sets `prompt` and `workflow`
 * on the container through PyAV; FFmpeg's MP3 muxer writes keys it has no frame for as TXXX
 * frames (user-defined text: a description and a value).
 */
import type { ByteSource } from './bytes.ts';
import { corrupt, readExactly, truncated, type EmbeddedText } from './problems.ts';

export interface Id3Tag {
  /** Where the data after the tag starts. */
  end: number;
  entries: EmbeddedText[];
}

function syncsafe(bytes: Buffer, at: number): number {
  return (((bytes[at] ?? 0) & 0x7f) << 21) | (((bytes[at + 1] ?? 0) & 0x7f) << 14) | (((bytes[at + 2] ?? 0) & 0x7f) << 7) | ((bytes[at + 3] ?? 0) & 0x7f);
}

/** Undoes unsynchronisation: every 0xFF 0x00 was written for a 0xFF. */
function resynchronise(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    out.push(byte);
    if (byte === 0xff && bytes[i + 1] === 0) i++;
  }
  return Buffer.from(out);
}

function decodeId3Text(bytes: Buffer, encoding: number): string {
  if (encoding === 1) {
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeUtf16be(bytes.subarray(2));
    return bytes.toString('utf16le', bytes[0] === 0xff && bytes[1] === 0xfe ? 2 : 0);
  }
  if (encoding === 2) return decodeUtf16be(bytes);
  return bytes.toString(encoding === 3 ? 'utf8' : 'latin1');
}

function decodeUtf16be(bytes: Buffer): string {
  const swapped = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  return swapped.swap16().toString('utf16le');
}

/** Where the NUL (two for UTF-16) that ends a string starting at `from` is. */
function terminator(frame: Buffer, from: number, wide: boolean): number {
  if (!wide) return frame.indexOf(0, from);
  for (let i = from; i + 1 < frame.length; i += 2) if (frame[i] === 0 && frame[i + 1] === 0) return i;
  return -1;
}

/** A TXXX frame: encoding, description NUL, value. */
function userText(frame: Buffer): { key: string; text: string } | undefined {
  const encoding = frame[0] ?? 0;
  const wide = encoding === 1 || encoding === 2;
  const end = terminator(frame, 1, wide);
  if (end < 0) return undefined;
  const key = decodeId3Text(frame.subarray(1, end), encoding);
  const text = decodeId3Text(frame.subarray(end + (wide ? 2 : 1)), encoding).replace(/\0+$/, '');
  return { key, text };
}

export function isId3(head: Buffer): boolean {
  return head.toString('latin1', 0, 3) === 'ID3' && (head[3] ?? 0) >= 2 && (head[3] ?? 0) <= 4;
}

/** The TXXX entries of the ID3v2 tag at the start of the file. */
export async function readId3(source: ByteSource, format: string): Promise<Id3Tag> {
  const header = await source.read(0, 10);
  if (header.length < 10) throw truncated(source, format, 'it ends inside its ID3 tag header');
  const version = header[3] ?? 0;
  const flags = header[5] ?? 0;
  const size = syncsafe(header, 6);
  const end = 10 + size + (flags & 0x10 ? 10 : 0);
  if (end > source.size) throw truncated(source, format, `it ends inside its ID3 tag (${end} bytes announced, the file has ${source.size})`);
  let tag = await readExactly(source, format, 10, size, 'ID3 tag');
  if (flags & 0x80 && version < 4) tag = resynchronise(tag);

  let at = 0;
  if (flags & 0x40 && version >= 3) at = version === 4 ? syncsafe(tag, 0) : 4 + tag.readUInt32BE(0);
  const idLength = version === 2 ? 3 : 4;
  const headerLength = version === 2 ? 6 : 10;
  const entries: EmbeddedText[] = [];
  while (at + headerLength <= tag.length && tag[at] !== 0) {
    const id = tag.toString('latin1', at, at + idLength);
    const length = version === 2 ? tag.readUIntBE(at + 3, 3) : version === 4 ? syncsafe(tag, at + 4) : tag.readUInt32BE(at + 4);
    const frameFlags = version === 2 ? 0 : tag.readUInt16BE(at + 8);
    const start = at + headerLength;
    if (!/^[A-Z0-9]+$/.test(id) || start + length > tag.length) throw corrupt(source, format, `the ID3 frame at byte ${10 + at} is malformed`);
    // Compressed or encrypted frames (v2.3: 0x0080, 0x0040; v2.4: 0x0008, 0x0004) are not user text we can read.
    const opaque = version === 3 ? frameFlags & 0x00c0 : version === 4 ? frameFlags & 0x000c : 0;
    if ((id === 'TXXX' || id === 'TXX') && !opaque) {
      let frame = tag.subarray(start, start + length);
      if (version === 4 && frameFlags & 0x0001) frame = frame.subarray(4); // data length indicator
      if (version === 4 && (frameFlags & 0x0002 || flags & 0x80)) frame = resynchronise(frame);
      const text = userText(frame);
      if (text) entries.push({ ...text, where: 'ID3 TXXX frame' });
    }
    at = start + length;
  }
  return { end, entries };
}

/**
 * Ogg Opus and Ogg Vorbis: the comment header, the second packet of the first logical stream
 * (`OpusTags` or `\x03vorbis`, then Vorbis comments). It may span several pages; each page read
 * is CRC-checked.
 */
import type { ByteSource } from './bytes.ts';
import { corrupt, MAX_METADATA_BYTES, readExactly, truncated, type MediaMetadata } from './problems.ts';
import { vorbisComments } from './vorbis-comment.ts';

const CAPTURE = 'OggS';
const PAGE_HEADER = 27;

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0. */
const CRC_TABLE = Array.from({ length: 256 }, (_, index) => {
  let crc = index << 24;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  return crc >>> 0;
});

function oggCrc(page: Buffer): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : (page[i] ?? 0);
    crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  }
  return crc;
}

/** The first two packets of the first logical stream. */
async function headerPackets(source: ByteSource): Promise<[Buffer, Buffer]> {
  const packets: Buffer[] = [];
  let pieces: Buffer[] = [];
  let pending = 0;
  let serial: number | undefined;
  let offset = 0;
  while (packets.length < 2) {
    const head = await source.read(offset, PAGE_HEADER);
    if (head.length === 0) throw truncated(source, 'Ogg', 'it ends before its comment header');
    if (head.length < PAGE_HEADER) throw truncated(source, 'Ogg', `it ends inside the page header at byte ${offset}`);
    if (head.toString('latin1', 0, 4) !== CAPTURE || head[4] !== 0) throw corrupt(source, 'Ogg', `there is no Ogg page at byte ${offset}`);
    const lacing = await source.read(offset + PAGE_HEADER, head[26] ?? 0);
    const bodyLength = lacing.reduce((sum, value) => sum + value, 0);
    const pageLength = PAGE_HEADER + (head[26] ?? 0) + bodyLength;
    if (offset + pageLength > source.size) throw truncated(source, 'Ogg', `it ends inside the page at byte ${offset}`);
    const page = await readExactly(source, 'Ogg', offset, pageLength, 'page');
    if (oggCrc(page) !== page.readUInt32LE(22)) throw corrupt(source, 'Ogg', `the page at byte ${offset} fails its CRC check`);
    const pageSerial = page.readUInt32LE(14);
    serial ??= pageSerial;
    if (pageSerial === serial) {
      let at = PAGE_HEADER + lacing.length;
      for (const value of lacing) {
        pieces.push(page.subarray(at, at + value));
        pending += value;
        at += value;
        if (pending > MAX_METADATA_BYTES) throw corrupt(source, 'Ogg', 'its header packets are impossibly large');
        if (value < 255) {
          packets.push(Buffer.concat(pieces));
          pieces = [];
          pending = 0;
          if (packets.length === 2) break;
        }
      }
    }
    offset += pageLength;
  }
  return packets as [Buffer, Buffer];
}

export async function readOgg(source: ByteSource): Promise<MediaMetadata> {
  const [identification, comments] = await headerPackets(source);
  if (identification.toString('latin1', 0, 8) === 'OpusHead') {
    if (comments.toString('latin1', 0, 8) !== 'OpusTags') throw corrupt(source, 'Ogg Opus', 'its second packet is not the OpusTags header');
    return { format: 'Ogg Opus', kind: 'audio', entries: vorbisComments(comments.subarray(8), source, 'Ogg Opus') };
  }
  if (identification.toString('latin1', 0, 7) === '\x01vorbis') {
    if (comments.toString('latin1', 0, 7) !== '\x03vorbis') throw corrupt(source, 'Ogg Vorbis', 'its second packet is not the comment header');
    return { format: 'Ogg Vorbis', kind: 'audio', entries: vorbisComments(comments.subarray(7), source, 'Ogg Vorbis') };
  }
  return { format: 'Ogg', kind: 'audio', entries: [] };
}

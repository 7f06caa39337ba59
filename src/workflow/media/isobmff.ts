/**
 * MP4 and QuickTime (ISO base media boxes). ComfyUI's SaveVideo writes through PyAV with FFmpeg's
 * `movflags=use_metadata_tags`, which stores every metadata key (`prompt`, `workflow`, …) as a
 * QuickTime `mdta` key: moov/udta/meta with an `mdta` handler, a `keys` box naming the keys and an
 * `ilst` box whose items (numbered by key) hold `data` boxes with the UTF-8 text. Only the box
 * headers are read on the way to `moov`; the media data is skipped.
 */
import type { ByteSource } from './bytes.ts';
import { corrupt, decodeText, readExactly, truncated, type EmbeddedText, type MediaMetadata } from './problems.ts';

const TOP_LEVEL = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'uuid', 'meta', 'moof', 'mfra', 'sidx', 'styp', 'pdin', 'prft']);
const IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'mif1', 'msf1']);

interface Box {
  type: string;
  /** Where the box's header starts, where its content starts and where it ends. */
  offset: number;
  start: number;
  end: number;
}

/** True when the file starts like an ISO base media file (ftyp, or a QuickTime file without one). */
export function isIsobmff(head: Buffer): boolean {
  if (head.length < 8) return false;
  const type = head.toString('latin1', 4, 8);
  if (type === 'ftyp') return true;
  // Old QuickTime files start with another box; its size (not text) comes first.
  return TOP_LEVEL.has(type) && type !== 'uuid' && type !== 'meta' && (head[0] ?? 0) < 0x20 && !/^\s/.test(head.toString('latin1', 0, 1));
}

function formatOf(head: Buffer): { format: string; kind: 'image' | 'video' } {
  if (head.toString('latin1', 4, 8) !== 'ftyp') return { format: 'QuickTime', kind: 'video' };
  const brand = head.toString('latin1', 8, 12);
  if (IMAGE_BRANDS.has(brand)) return { format: brand.startsWith('avi') ? 'AVIF' : 'HEIF', kind: 'image' };
  return { format: brand === 'qt  ' ? 'QuickTime' : 'MP4', kind: 'video' };
}

/** The boxes between `start` and `end` of the file, read header by header. */
async function fileBoxes(source: ByteSource, format: string, start: number, end: number): Promise<Box[]> {
  const boxes: Box[] = [];
  let offset = start;
  while (offset < end) {
    const header = await source.read(offset, 16);
    if (header.length < 8) throw truncated(source, format, `it ends inside a box header at byte ${offset}`);
    let size = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    let contentStart = offset + 8;
    if (size === 1) {
      if (header.length < 16) throw truncated(source, format, `it ends inside a box header at byte ${offset}`);
      size = Number(header.readBigUInt64BE(8));
      contentStart = offset + 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < contentStart - offset) throw corrupt(source, format, `the box at byte ${offset} has an impossible size`);
    if (offset + size > end) throw truncated(source, format, `it ends inside the ${type} box at byte ${offset}`);
    boxes.push({ type, offset, start: contentStart, end: offset + size });
    offset += size;
  }
  return boxes;
}

/** The boxes inside an already read buffer (offsets relative to it). */
function bufferBoxes(bytes: Buffer, start: number, end: number, source: ByteSource, format: string): Box[] {
  const boxes: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    let size = bytes.readUInt32BE(offset);
    let contentStart = offset + 8;
    if (size === 1) {
      if (offset + 16 > end) break;
      size = Number(bytes.readBigUInt64BE(offset + 8));
      contentStart = offset + 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < contentStart - offset || offset + size > end) throw corrupt(source, format, `a ${bytes.toString('latin1', offset + 4, offset + 8)} box in the metadata has an impossible size`);
    boxes.push({ type: bytes.toString('latin1', offset + 4, offset + 8), offset, start: contentStart, end: offset + size });
    offset += size;
  }
  return boxes;
}

/** The text of an item's first `data` box (well-known type 1, UTF-8), if it has one. */
function itemText(bytes: Buffer, item: Box, source: ByteSource, format: string): string | undefined {
  const data = bufferBoxes(bytes, item.start, item.end, source, format).find((box) => box.type === 'data');
  if (!data || data.end - data.start < 8) return undefined;
  return decodeText(bytes.subarray(data.start + 8, data.end));
}

/** The key of a classic item: its four letters without the leading ©, or a freeform item's name. */
function classicKey(bytes: Buffer, item: Box, source: ByteSource, format: string): string | undefined {
  if (item.type !== '----') return item.type.replace(/^\xa9/, '');
  const name = bufferBoxes(bytes, item.start, item.end, source, format).find((box) => box.type === 'name');
  return name && name.end - name.start >= 4 ? decodeText(bytes.subarray(name.start + 4, name.end)) : undefined;
}

/** The entries of a `meta` box: `mdta` keys, or classic four-letter items such as `©cmt`. */
function metaEntries(bytes: Buffer, meta: Box, source: ByteSource, format: string): EmbeddedText[] {
  // ISO `meta` is a full box (4 bytes of version and flags); QuickTime's is not.
  const start = bytes.toString('latin1', meta.start + 4, meta.start + 8) === 'hdlr' ? meta.start : meta.start + 4;
  const children = bufferBoxes(bytes, start, meta.end, source, format);
  const keys: string[] = [];
  const keysBox = children.find((box) => box.type === 'keys');
  if (keysBox) {
    if (keysBox.end - keysBox.start < 8) throw corrupt(source, format, 'the metadata key list is malformed');
    const count = bytes.readUInt32BE(keysBox.start + 4);
    let at = keysBox.start + 8;
    for (let i = 0; i < count && at + 8 <= keysBox.end; i++) {
      const size = bytes.readUInt32BE(at);
      if (size < 8 || at + size > keysBox.end) throw corrupt(source, format, 'the metadata key list is malformed');
      keys.push(decodeText(bytes.subarray(at + 8, at + size)));
      at += size;
    }
  }
  const entries: EmbeddedText[] = [];
  for (const list of children.filter((box) => box.type === 'ilst')) {
    for (const item of bufferBoxes(bytes, list.start, list.end, source, format)) {
      const key = keysBox ? keys[bytes.readUInt32BE(item.offset + 4) - 1] : classicKey(bytes, item, source, format);
      const text = itemText(bytes, item, source, format);
      if (key !== undefined && text !== undefined) entries.push({ key, text, where: keysBox ? 'mdta metadata item' : `${item.type} metadata item` });
    }
  }
  return entries;
}

export async function readIsobmff(source: ByteSource): Promise<MediaMetadata> {
  const { format, kind } = formatOf(await source.read(0, 12));
  const top = await fileBoxes(source, format, 0, source.size);
  const moov = top.find((box) => box.type === 'moov');
  const entries: EmbeddedText[] = [];
  if (moov) {
    for (const child of await fileBoxes(source, format, moov.start, moov.end)) {
      if (child.type !== 'udta' && child.type !== 'meta') continue;
      const bytes = await readExactly(source, format, child.offset, child.end - child.offset, `${child.type} box`);
      const box: Box = { type: child.type, offset: 0, start: child.start - child.offset, end: bytes.length };
      const metas = child.type === 'meta' ? [box] : bufferBoxes(bytes, box.start, box.end, source, format).filter((inner) => inner.type === 'meta');
      for (const meta of metas) entries.push(...metaEntries(bytes, meta, source, format));
    }
  }
  return { format, kind, entries };
}

/**
 * WebM and Matroska (EBML). ComfyUI's SaveWEBM sets the container metadata through PyAV, and
 * FFmpeg's Matroska muxer writes each key as a global SimpleTag (Tags › Tag › SimpleTag, name in
 * upper case: `PROMPT`, `WORKFLOW`). Only element headers are read on the way to the Tags; the
 * clusters of frames are skipped, or jumped over with the SeekHead.
 */
import type { ByteSource } from './bytes.ts';
import { corrupt, decodeText, readExactly, truncated, type EmbeddedText, type MediaMetadata } from './problems.ts';

export const EBML_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);

const ID = {
  ebml: 0x1a45dfa3,
  docType: 0x4282,
  segment: 0x18538067,
  seekHead: 0x114d9b74,
  seek: 0x4dbb,
  seekId: 0x53ab,
  seekPosition: 0x53ac,
  cluster: 0x1f43b675,
  tags: 0x1254c367,
  tag: 0x7373,
  targets: 0x63c0,
  simpleTag: 0x67c8,
  tagName: 0x45a3,
  tagString: 0x4487,
} as const;
/** TagTrackUID, TagEditionUID, TagChapterUID, TagAttachmentUID: a tag about one part, not the file. */
const TARGET_UIDS = new Set([0x63c5, 0x63c9, 0x63c4, 0x63c6]);

interface Element {
  id: number;
  offset: number;
  start: number;
  /** undefined: unknown size (a stream written live). */
  end: number | undefined;
}

/** An EBML variable-length integer: its length in bytes and its value (undefined when all ones). */
function vint(bytes: Buffer, at: number, keepMarker: boolean): { length: number; value: number | undefined } | undefined {
  const first = bytes[at];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (at + length > bytes.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = bytes[at + i] ?? 0;
    value = value * 256 + byte;
    if (byte !== 0xff) allOnes = false;
  }
  return { length, value: !keepMarker && allOnes ? undefined : value };
}

function header(bytes: Buffer, at: number): { id: number; headerLength: number; size: number | undefined } | undefined {
  const id = vint(bytes, at, true);
  if (!id || id.length > 4) return undefined;
  const size = vint(bytes, at + id.length, false);
  if (!size) return undefined;
  return { id: id.value ?? 0, headerLength: id.length + size.length, size: size.value };
}

async function fileElement(source: ByteSource, format: string, offset: number): Promise<Element> {
  const bytes = await source.read(offset, 12);
  const parsed = header(bytes, 0);
  if (!parsed) {
    if (bytes.length < 12 && offset + bytes.length >= source.size) throw truncated(source, format, `it ends inside an element header at byte ${offset}`);
    throw corrupt(source, format, `the element header at byte ${offset} is not valid`);
  }
  const start = offset + parsed.headerLength;
  return { id: parsed.id, offset, start, end: parsed.size === undefined ? undefined : start + parsed.size };
}

/** The child elements inside an already read buffer. */
function children(bytes: Buffer, start: number, end: number, source: ByteSource, format: string): Element[] {
  const found: Element[] = [];
  let at = start;
  while (at < end) {
    const parsed = header(bytes, at);
    if (!parsed || parsed.size === undefined || at + parsed.headerLength + parsed.size > end) throw corrupt(source, format, 'an element in its metadata is malformed');
    found.push({ id: parsed.id, offset: at, start: at + parsed.headerLength, end: at + parsed.headerLength + parsed.size });
    at += parsed.headerLength + parsed.size;
  }
  return found;
}

function uint(bytes: Buffer, element: Element): number {
  let value = 0;
  for (let i = element.start; i < (element.end ?? element.start); i++) value = value * 256 + (bytes[i] ?? 0);
  return value;
}

async function readElement(source: ByteSource, format: string, element: Element, what: string): Promise<Buffer> {
  return readExactly(source, format, element.offset, (element.end ?? element.start) - element.offset, what);
}

/** Global SimpleTags (name and string value) of a Tags element. */
function tagEntries(bytes: Buffer, source: ByteSource, format: string): EmbeddedText[] {
  const entries: EmbeddedText[] = [];
  const top = children(bytes, 0, bytes.length, source, format)[0];
  if (!top?.end) return entries;
  for (const tag of children(bytes, top.start, top.end, source, format).filter((element) => element.id === ID.tag)) {
    const parts = children(bytes, tag.start, tag.end ?? tag.start, source, format);
    const targets = parts.find((element) => element.id === ID.targets);
    if (targets && children(bytes, targets.start, targets.end ?? targets.start, source, format).some((element) => TARGET_UIDS.has(element.id))) continue;
    for (const simple of parts.filter((element) => element.id === ID.simpleTag)) {
      const fields = children(bytes, simple.start, simple.end ?? simple.start, source, format);
      const name = fields.find((element) => element.id === ID.tagName);
      const value = fields.find((element) => element.id === ID.tagString);
      if (!name || !value) continue;
      entries.push({ key: decodeText(bytes.subarray(name.start, name.end)), text: decodeText(bytes.subarray(value.start, value.end)), where: 'Matroska tag' });
    }
  }
  return entries;
}

/** Where the SeekHead says the Tags elements are (absolute offsets). */
function seekTargets(bytes: Buffer, segmentStart: number, source: ByteSource, format: string): number[] {
  const top = children(bytes, 0, bytes.length, source, format)[0];
  if (!top?.end) return [];
  const positions: number[] = [];
  for (const seek of children(bytes, top.start, top.end, source, format).filter((element) => element.id === ID.seek)) {
    const fields = children(bytes, seek.start, seek.end ?? seek.start, source, format);
    const id = fields.find((element) => element.id === ID.seekId);
    const position = fields.find((element) => element.id === ID.seekPosition);
    if (id && position && uint(bytes, id) === ID.tags) positions.push(segmentStart + uint(bytes, position));
  }
  return positions;
}

export async function readMatroska(source: ByteSource): Promise<MediaMetadata> {
  let format = 'Matroska';
  const ebml = await fileElement(source, format, 0);
  if (ebml.id !== ID.ebml || ebml.end === undefined) throw corrupt(source, format, 'its EBML header is not valid');
  const ebmlBytes = await readElement(source, format, ebml, 'EBML header');
  const docType = children(ebmlBytes, ebml.start, ebmlBytes.length, source, format).find((element) => element.id === ID.docType);
  if (docType && ebmlBytes.toString('latin1', docType.start, docType.end) === 'webm') format = 'WebM';

  const segment = await fileElement(source, format, ebml.end);
  if (segment.id !== ID.segment) throw corrupt(source, format, `there is no Segment after the EBML header (byte ${ebml.end})`);
  if (segment.end !== undefined && segment.end > source.size) throw truncated(source, format, `its Segment announces ${segment.end} bytes, the file has ${source.size}`);
  const segmentEnd = segment.end ?? source.size;

  const entries: EmbeddedText[] = [];
  const visited = new Set<number>();
  const pending: number[] = [];
  let offset = segment.start;
  while (offset < segmentEnd) {
    const element = await fileElement(source, format, offset);
    if (element.id === ID.cluster && (pending.some((position) => position > offset) || element.end === undefined)) break;
    if (element.end === undefined) throw corrupt(source, format, `the element at byte ${offset} has no size`);
    if (element.end > segmentEnd) throw truncated(source, format, `it ends inside the element at byte ${offset}`);
    if (element.id === ID.seekHead) pending.push(...seekTargets(await readElement(source, format, element, 'SeekHead'), segment.start, source, format));
    if (element.id === ID.tags) {
      visited.add(offset);
      entries.push(...tagEntries(await readElement(source, format, element, 'Tags element'), source, format));
    }
    offset = element.end;
  }
  for (const position of pending.filter((at) => !visited.has(at) && at < segmentEnd)) {
    const element = await fileElement(source, format, position);
    if (element.id !== ID.tags || element.end === undefined) continue;
    visited.add(position);
    entries.push(...tagEntries(await readElement(source, format, element, 'Tags element'), source, format));
  }
  return { format, kind: 'video', entries };
}

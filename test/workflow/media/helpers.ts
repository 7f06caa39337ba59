/** Shared by the media tests: the fixtures ComfyUI saved, PNG chunk surgery, expected errors. */
export { usageErrorOf as usageError } from '../../support/errors.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function mediaFixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/media/${name}`, import.meta.url));
}

export function mediaBytes(name: string): Buffer {
  return readFileSync(mediaFixture(name));
}

const dir = mkdtempSync(join(tmpdir(), 'pyros-media-'));

/** Writes bytes to a fresh file in a temporary folder and returns its path. */
export function writeTemp(name: string, bytes: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}


export interface PngChunk {
  type: string;
  data: Buffer;
  /** Where the chunk starts in the file. */
  offset: number;
}

export function pngChunks(png: Buffer): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    chunks.push({ type: png.toString('latin1', offset + 4, offset + 8), data: png.subarray(offset + 8, offset + 8 + length), offset });
    offset += 12 + length;
  }
  return chunks;
}

export { pngChunk } from '../../../src/sim/imaging/png.ts';

/** A PNG with the same chunks as `png`, each passed through `map` (which may drop or replace it). */
export function rewritePng(png: Buffer, map: (chunk: PngChunk) => Buffer | Buffer[] | undefined): Buffer {
  const parts = [png.subarray(0, 8)];
  for (const chunk of pngChunks(png)) {
    const replaced = map(chunk);
    if (replaced === undefined) continue;
    parts.push(...(Array.isArray(replaced) ? replaced : [replaced]));
  }
  return Buffer.concat(parts);
}

/** The keyword and text of a tEXt or comf chunk. */
export function textChunk(chunk: PngChunk): { key: string; text: string } {
  const nul = chunk.data.indexOf(0);
  return { key: chunk.data.toString('latin1', 0, nul), text: chunk.data.toString('latin1', nul + 1) };
}

/** Flips bits of one byte: damage that keeps the file's length. */
export function flipBits(bytes: Buffer, index: number, mask: number): void {
  bytes[index] = (bytes[index] ?? 0) ^ mask;
}

/**
 * Videos can be gigabytes: the readers must read only box and element headers on the way to
 * the metadata. These sources stand for files of several GiB without any disk or memory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readWorkflowSource, readWorkflowSourceFrom, type ByteSource } from '../../../src/workflow/source.ts';
import { mediaBytes, mediaFixture } from './helpers.ts';

const GIB = 1024 ** 3;

/** A source made of byte pieces and runs of zeros (numbers), counting what is read. */
function virtualSource(parts: (Buffer | number)[], name: string): ByteSource & { bytesRead: number } {
  const size = parts.reduce<number>((sum, part) => sum + (typeof part === 'number' ? part : part.length), 0);
  const source = {
    name,
    size,
    bytesRead: 0,
    read: async (offset: number, length: number): Promise<Buffer> => {
      const out = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      let start = 0;
      for (const part of parts) {
        const partLength = typeof part === 'number' ? part : part.length;
        const from = Math.max(offset, start);
        const to = Math.min(offset + out.length, start + partLength);
        if (from < to && typeof part !== 'number') part.copy(out, from - offset, from - start, to - start);
        start += partLength;
      }
      source.bytesRead += out.length;
      return out;
    },
  };
  return source;
}

/** An EBML element with an 8-byte size field (or an unknown size). */
function ebml(id: number[], content: Buffer | number | 'unknown'): Buffer {
  const size = Buffer.alloc(8);
  if (content === 'unknown') size.fill(0xff, 1);
  else size.writeBigUInt64BE(BigInt(typeof content === 'number' ? content : content.length));
  size[0] = 0x01;
  return Buffer.concat([Buffer.from(id), size, typeof content === 'object' ? content : Buffer.alloc(0)]);
}

test('an MP4 of 3 GiB with its moov at the end: only headers and the metadata are read', async () => {
  const mp4 = mediaBytes('savevideo.mp4');
  const moovAt = mp4.indexOf('moov', 0, 'latin1') - 4;
  const mdat = Buffer.alloc(16);
  mdat.writeUInt32BE(1, 0);
  mdat.write('mdat', 4, 'latin1');
  mdat.writeBigUInt64BE(BigInt(16 + 3 * GIB), 8);
  const source = virtualSource([mp4.subarray(0, 32), mdat, 3 * GIB, mp4.subarray(moovAt)], 'big.mp4');
  const result = await readWorkflowSourceFrom(source);
  const expected = await readWorkflowSource(mediaFixture('savevideo.mp4'));
  assert.deepEqual(result, expected);
  assert.ok(source.bytesRead < 16 * 1024, `read ${source.bytesRead} bytes`);
});

test('a WebM written live (cluster of unknown size) with Tags after 3 GiB: found through the SeekHead', async () => {
  const webm = mediaBytes('savewebm.webm');
  const header = webm.subarray(0, 36);
  const tags = webm.subarray(331, 2439);
  assert.equal(tags.readUInt32BE(0), 0x1254c367);
  const clusterLength = 3 * GIB;
  const seekHeadLength = 12 + (10 + (10 + 4) + (10 + 8));
  const tagsPosition = seekHeadLength + 12 + clusterLength;
  const position = Buffer.alloc(8);
  position.writeBigUInt64BE(BigInt(tagsPosition));
  const seek = ebml([0x4d, 0xbb], Buffer.concat([ebml([0x53, 0xab], Buffer.from([0x12, 0x54, 0xc3, 0x67])), ebml([0x53, 0xac], position)]));
  const seekHead = ebml([0x11, 0x4d, 0x9b, 0x74], seek);
  assert.equal(seekHead.length, seekHeadLength);
  const source = virtualSource([header, ebml([0x18, 0x53, 0x80, 0x67], 'unknown'), seekHead, ebml([0x1f, 0x43, 0xb6, 0x75], 'unknown'), clusterLength, tags], 'big.webm');
  const result = await readWorkflowSourceFrom(source);
  assert.deepEqual(result, await readWorkflowSource(mediaFixture('savewebm.webm')));
  assert.ok(source.bytesRead < 16 * 1024, `read ${source.bytesRead} bytes`);
});

test('a Matroska file without a SeekHead: the clusters are skipped header by header', async () => {
  const webm = mediaBytes('savewebm.webm');
  const clusters = Array.from({ length: 4 }, () => [ebml([0x1f, 0x43, 0xb6, 0x75], GIB), GIB]).flat();
  const segmentLength = clusters.reduce<number>((sum, part) => sum + (typeof part === 'number' ? part : part.length), 0) + 2108;
  const source = virtualSource([webm.subarray(0, 36), ebml([0x18, 0x53, 0x80, 0x67], segmentLength), ...clusters, webm.subarray(331, 2439)], 'long.mkv');
  const result = await readWorkflowSourceFrom(source);
  assert.equal(result.api?.['4']?.class_type, 'SaveWEBM');
  assert.ok(source.bytesRead < 16 * 1024, `read ${source.bytesRead} bytes`);
});

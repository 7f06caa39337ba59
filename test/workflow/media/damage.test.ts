/**
 * Whatever the damage, reading a file gives its workflow or one usage error: never a crash, a
 * RangeError from a bad offset, or a hang. Every fixture is cut at many lengths and has bytes
 * flipped at many places (a fixed pseudo-random sequence, so failures repeat).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { PyrosError } from '../../../src/errors.ts';
import { workflowSourceFromBytes } from '../../../src/workflow/source.ts';
import { mediaBytes, mediaFixture } from './helpers.ts';

const files = readdirSync(mediaFixture('.')).filter((name) => /\.(png|webp|mp4|webm|flac|mp3|opus)$/.test(name));

function* positions(length: number, count: number, seed: number): Generator<number> {
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    yield state % length;
  }
}

async function readsOrRefuses(bytes: Buffer, what: string): Promise<void> {
  try {
    await workflowSourceFromBytes(bytes, 'damaged');
  } catch (error) {
    assert.ok(error instanceof PyrosError && error.kind === 'usage', `${what}: ${String((error as Error).stack ?? error)}`);
  }
}

test('cut anywhere: the workflow or one usage error', async () => {
  for (const file of files) {
    const bytes = mediaBytes(file);
    for (const length of positions(bytes.length, 60, bytes.length)) await readsOrRefuses(bytes.subarray(0, length), `${file} cut at ${length}`);
  }
});

test('bytes changed anywhere: the workflow or one usage error', async () => {
  for (const file of files) {
    const original = mediaBytes(file);
    for (const at of positions(original.length, 200, original.length + 7)) {
      for (const value of [0x00, 0xff, (original[at] ?? 0) ^ 0x80]) {
        const bytes = Buffer.from(original);
        bytes[at] = value;
        await readsOrRefuses(bytes, `${file} byte ${at} = ${value}`);
      }
    }
  }
});

/** Seed policy and prompt × count expansion of a batch. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandBatch, parseCount, parseSeedPolicy, readPromptsFile } from '../../src/cli/batch/expand.ts';
import { isPyrosError } from '../../src/errors.ts';

describe('seed policy', () => {
  it('reads random, a fixed seed, a sequence, or nothing', () => {
    assert.deepEqual(parseSeedPolicy(undefined), { kind: 'keep' });
    assert.deepEqual(parseSeedPolicy('random'), { kind: 'random' });
    assert.deepEqual(parseSeedPolicy('RANDOM'), { kind: 'random' });
    assert.deepEqual(parseSeedPolicy('42'), { kind: 'fixed', value: 42 });
    assert.deepEqual(parseSeedPolicy('42+'), { kind: 'sequence', start: 42 });
    assert.deepEqual(parseSeedPolicy(' 0+ '), { kind: 'sequence', start: 0 });
  });

  it('refuses what is not a seed', () => {
    for (const text of ['-1', '1.5', 'abc', '+', 'random+', '1e3+']) {
      assert.throws(() => parseSeedPolicy(text), (error: unknown) => isPyrosError(error) && error.kind === 'usage', text);
    }
  });

  it('gives every job a fresh random seed, the same seed, or consecutive seeds', () => {
    let next = 1000;
    const random = expandBatch({ prompts: [], count: 4, seed: { kind: 'random' }, random: () => next++ });
    assert.deepEqual(random.map((item) => item.seed), [1000, 1001, 1002, 1003]);
    const fixed = expandBatch({ prompts: [], count: 3, seed: { kind: 'fixed', value: 7 } });
    assert.deepEqual(fixed.map((item) => item.seed), [7, 7, 7]);
    const sequence = expandBatch({ prompts: [], count: 3, seed: { kind: 'sequence', start: 10 } });
    assert.deepEqual(sequence.map((item) => item.seed), [10, 11, 12]);
    const keep = expandBatch({ prompts: [], count: 2, seed: { kind: 'keep' } });
    assert.deepEqual(keep.map((item) => item.seed), [undefined, undefined]);
  });

  it('refuses a sequence that would leave the exact JSON integers', () => {
    assert.throws(() => expandBatch({ prompts: [], count: 3, seed: { kind: 'sequence', start: Number.MAX_SAFE_INTEGER - 1 } }), /goes past/);
  });
});

describe('prompt × count', () => {
  it('runs every prompt count times, prompt by prompt, each prompt with the same seed series', () => {
    const items = expandBatch({ prompts: ['a fox', 'a crow'], count: 3, seed: { kind: 'sequence', start: 5 } });
    assert.deepEqual(
      items.map((item) => [item.index, item.prompt, item.repeat, item.seed]),
      [
        [0, 'a fox', 0, 5],
        [1, 'a fox', 1, 6],
        [2, 'a fox', 2, 7],
        [3, 'a crow', 0, 5],
        [4, 'a crow', 1, 6],
        [5, 'a crow', 2, 7],
      ],
    );
    assert.deepEqual(items.map((item) => item.promptIndex), [0, 0, 0, 1, 1, 1]);
  });

  it('keeps the workflow prompt when none is given', () => {
    const items = expandBatch({ prompts: [], count: 2, seed: { kind: 'keep' } });
    assert.deepEqual(items.map((item) => item.prompt), [undefined, undefined]);
  });

  it('reads --count and a prompts file', async () => {
    assert.equal(parseCount(undefined), 1);
    assert.equal(parseCount('30'), 30);
    for (const bad of ['0', '-2', '1.5', 'x']) assert.throws(() => parseCount(bad), /--count/);
    const dir = await mkdtemp(join(tmpdir(), 'pyros-prompts-'));
    try {
      const file = join(dir, 'prompts.txt');
      await writeFile(file, 'a lighthouse at dusk\n\n# a comment\n  a red fox in snow  \r\n');
      assert.deepEqual(await readPromptsFile(file), ['a lighthouse at dusk', 'a red fox in snow']);
      await writeFile(file, '\n# nothing\n');
      await assert.rejects(readPromptsFile(file), /no prompt/);
      await assert.rejects(readPromptsFile(join(dir, 'missing.txt')), /no such file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

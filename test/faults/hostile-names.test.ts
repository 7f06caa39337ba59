/**
 * Hostile file names from the server (`../`, `/`, `\`, NUL, a drive letter, control characters):
 * every output is saved inside the output folder under a plain name, byte for byte.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  tinyWorkflow,
  useFaultSuite,
} from '../support/faults.ts';

const ABSOLUTE = join(tmpdir(), `pyros-absolute-${process.pid}.png`);
const HOSTILE = [
  '../../escaped.png',
  ABSOLUTE,
  '..\\..\\windows.png',
  'C:\\Windows\\drive.png',
  'D:relative.png',
  'nul\u0000byte.png',
  '\u001b[31mred\u0007.png',
  '..',
];

/** One image for each hostile name. */
function batchOfHostile() {
  const workflow = tinyWorkflow({ steps: 2 });
  (workflow['5'] as { inputs: Record<string, unknown> }).inputs.batch_size = HOSTILE.length;
  return workflow;
}

describe('faults: hostile file names', () => {
  const suite = useFaultSuite('names', { stepMs: 1, workflow: batchOfHostile() });

  it('saves every output inside the output folder under a safe name, byte for byte', async () => {
    // The server lists its real files under hostile names, and serves them under those names.
    const realName = new Map<string, string>();
    suite.sim.hooks = {
      onNodeOutput: ({ classType, output }) => {
        if (classType !== 'SaveImage') return undefined;
        const images = output.images as { filename: string; subfolder: string; type: string }[];
        return {
          ...output,
          images: images.map((image, index) => {
            const hostile = HOSTILE[index] ?? image.filename;
            realName.set(hostile, image.filename);
            return { ...image, filename: hostile };
          }),
        };
      },
      onRequest: async ({ path, query, res }) => {
        const real = path === '/view' ? realName.get(query.get('filename') ?? '') : undefined;
        if (real === undefined) return false;
        const bytes = await readFile(join(suite.sim.dataDir, 'output', real));
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.length }).end(bytes);
        return true;
      },
    };
    const out = join(suite.root, 'deep', 'out');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);

    const saved = jsonEvents(result.stdout).filter((e) => e.event === 'saved');
    assert.equal(saved.length, HOSTILE.length);
    for (const event of saved) {
      const path = String(event.path);
      assert.equal(dirname(path), out, `${path} is outside the output folder`);
      assert.doesNotMatch(basename(path), /[\\/\u0000-\u001f]|^\.|^[A-Za-z]:/, `unsafe name ${JSON.stringify(basename(path))}`);
      for (const sidecar of event.sidecars as string[]) assert.equal(dirname(sidecar), out);
    }
    await assertSavedIdentical(out, await suite.produced());
    // Nothing escaped: the folders above hold only what the test put there.
    assert.deepEqual(await readdir(join(suite.root, 'deep')), ['out']);
    assert.deepEqual((await readdir(suite.root)).sort(), ['deep', 'flow.json']);
    await assert.rejects(readFile(ABSOLUTE));
    await assertNoTempFiles(suite.root);
  });
});

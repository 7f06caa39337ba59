/**
 * Hostile file names from the server (`../`, `/`, `\`, NUL, a drive letter, control characters):
 * every output is saved inside the output folder under a plain name, byte for byte.
 */
import assert from 'node:assert/strict';
import { readFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  serverOutputs,
  startFaultSim,
  tinyWorkflow,
  writeWorkflow,
  type FaultSim,
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

describe('faults: hostile file names', () => {
  let sim: FaultSim;
  let root: string;
  let flow: string;

  before(async () => {
    sim = await startFaultSim({ stepMs: 1 });
    root = await mkdtemp(join(tmpdir(), 'pyros-names-'));
    const workflow = tinyWorkflow({ steps: 2 });
    (workflow['5'] as { inputs: Record<string, unknown> }).inputs.batch_size = HOSTILE.length;
    flow = await writeWorkflow(root, 'flow.json', workflow);
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('saves every output inside the output folder under a safe name, byte for byte', async () => {
    // The server lists its real files under hostile names, and serves them under those names.
    const realName = new Map<string, string>();
    sim.hooks = {
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
        const bytes = await readFile(join(sim.dataDir, 'output', real));
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.length }).end(bytes);
        return true;
      },
    };
    const mark = await serverOutputs(sim);
    const out = join(root, 'deep', 'out');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);

    const saved = jsonEvents(result.stdout).filter((e) => e.event === 'saved');
    assert.equal(saved.length, HOSTILE.length);
    for (const event of saved) {
      const path = String(event.path);
      assert.equal(dirname(path), out, `${path} is outside the output folder`);
      assert.doesNotMatch(basename(path), /[\\/\u0000-\u001f]|^\.|^[A-Za-z]:/, `unsafe name ${JSON.stringify(basename(path))}`);
      for (const sidecar of event.sidecars as string[]) assert.equal(dirname(sidecar), out);
    }
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    // Nothing escaped: the folders above hold only what the test put there.
    assert.deepEqual(await readdir(join(root, 'deep')), ['out']);
    assert.deepEqual((await readdir(root)).sort(), ['deep', 'flow.json']);
    await assert.rejects(readFile(ABSOLUTE));
    await assertNoTempFiles(root);
  });
});

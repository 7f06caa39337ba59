/** `--front` queues ahead of waiting prompts; `--only NODE` runs just what that output needs. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import { runPyros, startPyros } from '../support/cli.ts';
import { until } from '../support/wait.ts';

/** EmptyImage → two SaveImage outputs with their own prefixes. */
function twoOutputs(color: number): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color }, _meta: { title: 'Canvas' } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'left' }, _meta: { title: 'Save Left' } },
    '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'right' }, _meta: { title: 'Save Right' } },
  };
}

describe('--front and --only', () => {
  const hooks: SimHooks = {};
  let sim: SimServer;
  let root: string;

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0, previews: false, hooks });
    root = await mkdtemp(join(tmpdir(), 'pyros-front-only-'));
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('--only runs just the output node named (by title or id)', async () => {
    const flow = join(root, 'two.json');
    await writeFile(flow, JSON.stringify(twoOutputs(1)));
    const byTitle = join(root, 'only-title');
    const result = await runPyros(['run', flow, '--server', sim.url, '--only', 'Save Right', '-o', byTitle]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(byTitle)).filter((name) => name.endsWith('.png')).map((name) => name.split('_')[0]), ['right']);
    const byId = join(root, 'only-id');
    assert.equal((await runPyros(['run', flow, '--server', sim.url, '--only', '2', '-o', byId])).code, 0);
    assert.deepEqual((await readdir(byId)).filter((name) => name.endsWith('.png')).map((name) => name.split('_')[0]), ['left']);
    const unknown = await runPyros(['run', flow, '--server', sim.url, '--only', 'Nothing', '-o', join(root, 'none')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--only Nothing: the workflow has no such node/);
  });

  it('--front runs a job before the prompts already waiting', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    hooks.onNodeStart = async ({ classType, promptId }) => {
      if (classType !== 'EmptyImage') return;
      started.push(promptId);
      if (started.length === 1) await held;
    };
    try {
      const files = await Promise.all(
        [11, 12, 13].map(async (color) => {
          const file = join(root, `color-${color}.json`);
          await writeFile(file, JSON.stringify(twoOutputs(color)));
          return file;
        }),
      );
      const promptIdOf = async (run: ReturnType<typeof startPyros>): Promise<string> => (await run.waitFor(/"event":"job"[^\n]*"prompt_id":"([^"]+)"/))[1] as string;
      const first = startPyros(['run', files[0] as string, '--server', sim.url, '-o', join(root, 'f1'), '--json']);
      const firstId = await promptIdOf(first);
      await first.whileRunning(until(() => started.length === 1, 20_000, 'the first job runs'));
      const waiting = startPyros(['run', files[1] as string, '--server', sim.url, '-o', join(root, 'f2'), '--json']);
      const waitingId = await promptIdOf(waiting);
      await waiting.waitFor(/"event":"queued"/);
      const front = startPyros(['run', files[2] as string, '--server', sim.url, '--front', '-o', join(root, 'f3'), '--json']);
      const frontId = await promptIdOf(front);
      await front.waitFor(/"event":"queued"/);
      release();
      for (const run of [first, waiting, front]) assert.equal((await run.result).code, 0);
      assert.deepEqual(started, [firstId, frontId, waitingId], 'the --front job ran before the one that waited');
    } finally {
      delete hooks.onNodeStart;
      release();
    }
  });
});

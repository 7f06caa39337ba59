/**
 * Resume: every run prints its prompt id before anything else happens, and `pyros fetch ID`
 * downloads a finished prompt's outputs with the same saving rules, so a crashed or killed
 * client loses nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  gate,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  serverOutputs,
  sleep,
  startFaultSim,
  startPyros,
  submitAsOtherClient,
  tinyWorkflow,
  waitForHistory,
  writeWorkflow,
  type FaultSim,
} from '../support/faults.ts';

function seeded(seed: number) {
  const workflow = tinyWorkflow();
  (workflow['3'] as { inputs: Record<string, unknown> }).inputs.seed = seed;
  return workflow;
}

describe('faults: a killed client loses nothing (resume with pyros fetch)', () => {
  let sim: FaultSim;
  let root: string;
  let flow: string;
  let mark: Map<string, Buffer>;

  before(async () => {
    sim = await startFaultSim({ stepMs: 2 });
    root = await mkdtemp(join(tmpdir(), 'pyros-resume-'));
    flow = await writeWorkflow(root, 'flow.json', tinyWorkflow({ steps: 4 }));
  });
  beforeEach(async () => {
    sim.hooks = {};
    mark = await serverOutputs(sim);
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('prints the prompt id first; after SIGKILL, pyros fetch saves the outputs byte for byte', async () => {
    const held = gate();
    const reached = gate();
    sim.hooks = {
      onNodeStart: async ({ nodeId }) => {
        if (nodeId !== '3') return;
        reached.open();
        await held.wait();
      },
    };
    const running = startPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', join(root, 'killed')], { env: QUICK_CHECKS });
    const [, promptId] = (await running.waitFor(/^prompt ([0-9a-f-]{36})$/m)) as unknown as [string, string];
    await reached.wait();
    await running.waitFor(/Submitted/);
    // Printed before the job said anything else about itself.
    assert.ok(running.stderr.indexOf(`prompt ${promptId}`) < running.stderr.indexOf('Submitted'), running.stderr);
    running.signal('SIGKILL');
    const killed = await running.result;
    assert.equal(killed.code, null);
    held.open();
    await waitForHistory(sim, promptId);

    const out = join(root, 'fetched');
    const result = await runPyros(['fetch', promptId, '--server', sim.url, '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`1 file saved in ${out} \\(prompt ${promptId}\\)`));
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    await assertNoTempFiles(out);
    await assertNoTempFiles(join(root, 'killed'));
    // Same saving rules as run (without --prompt): the image, and its metadata beside it.
    const files = (await readdir(out)).sort();
    const png = files.find((f) => f.endsWith('.png')) ?? '';
    const stem = png.slice(0, -4);
    assert.deepEqual(files, [`${stem}.json`, png].sort());
    const meta = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8'));
    assert.equal(meta.prompt_id, promptId);
  });

  it('announces the prompt id as the first event of the job with --json', async () => {
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', join(root, 'json'), '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const names = jsonEvents(result.stdout).map((e) => e.event);
    const job = names.indexOf('job');
    assert.ok(job >= 0);
    assert.ok(job < names.indexOf('submitted'), names.join(','));
  });

  it('fetch waits for a prompt that is still running, then saves it', async () => {
    const held = gate();
    sim.hooks = { onNodeStart: async ({ nodeId }) => (nodeId === '3' ? held.wait() : undefined) };
    const promptId = await submitAsOtherClient(sim, seeded(99));
    const out = join(root, 'waited');
    const fetching = startPyros(['fetch', promptId, '--server', sim.url, '-o', out]);
    await sleep(300);
    held.open();
    const result = await fetching.result;
    assert.equal(result.code, 0, result.stderr);
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
  });

  it('fetch --no-wait on a prompt that has not finished exits 2', async () => {
    const held = gate();
    sim.hooks = { onNodeStart: async ({ nodeId }) => (nodeId === '3' ? held.wait() : undefined) };
    const promptId = await submitAsOtherClient(sim, seeded(1234567));
    const result = await runPyros(['fetch', promptId, '--server', sim.url, '-o', join(root, 'no-wait'), '--no-wait']);
    held.open();
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`Prompt ${promptId} has not finished yet`));
    await waitForHistory(sim, promptId);
  });

  it('fetch of a prompt the server does not know exits 9', async () => {
    const result = await runPyros(['fetch', '00000000-0000-4000-8000-000000000000', '--server', sim.url, '-o', join(root, 'unknown')]);
    assert.equal(result.code, 9, result.stderr);
    assert.match(result.stderr, /knows no prompt 00000000-0000-4000-8000-000000000000/);
  });
});

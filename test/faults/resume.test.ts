/**
 * Resume: every run prints its prompt id before anything else happens, and `pyros fetch ID`
 * downloads a finished prompt's outputs with the same saving rules, so a crashed or killed
 * client loses nothing.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertEndState,
  assertNoTempFiles,
  assertSavedIdentical,
  gate,
  holdNode,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  startPyros,
  submitAsOtherClient,
  tinyWorkflow,
  useFaultSuite,
  waitForHistory,
} from '../support/faults.ts';
import { until } from '../support/wait.ts';

describe('faults: a killed client loses nothing (resume with pyros fetch)', () => {
  const suite = useFaultSuite('resume', { stepMs: 2, workflow: tinyWorkflow({ steps: 4 }) });

  it('prints the prompt id first; after SIGKILL, pyros fetch saves the outputs byte for byte', async () => {
    const held = gate();
    const reached = gate();
    suite.sim.hooks = holdNode('3', held, reached);
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'killed')], { env: QUICK_CHECKS });
    const [, promptId] = (await running.waitFor(/^prompt ([0-9a-f-]{36})$/m)) as unknown as [string, string];
    await reached.wait();
    await running.waitFor(/Submitted/);
    // Printed before the job said anything else about itself.
    assert.ok(running.stderr.indexOf(`prompt ${promptId}`) < running.stderr.indexOf('Submitted'), running.stderr);
    running.signal('SIGKILL');
    const killed = await running.result;
    assert.equal(killed.code, null);
    held.open();
    await waitForHistory(suite.sim, promptId);

    const out = join(suite.root, 'fetched');
    const result = await runPyros(['fetch', promptId, '--server', suite.sim.url, '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`1 file saved in ${out} \\(prompt ${promptId}\\)`));
    await assertEndState(suite, out);
    await assertNoTempFiles(join(suite.root, 'killed'));
    // The same sidecars as the run would have written: the prompt text, and the metadata with the seed and the workflow.
    const files = (await readdir(out)).sort();
    const png = files.find((f) => f.endsWith('.png')) ?? '';
    const stem = png.slice(0, -4);
    assert.deepEqual(files, [`${stem}.json`, png, `${stem}.txt`].sort());
    const meta = JSON.parse(await readFile(join(out, `${stem}.json`), 'utf8'));
    assert.equal(meta.prompt_id, promptId);
    assert.equal(await readFile(join(out, `${stem}.txt`), 'utf8'), `${meta.prompt}\n`);
    assert.equal(typeof meta.seed, 'number');
    assert.equal(meta.workflow_file, suite.flow);
  });

  it('announces the prompt id as the first event of the job with --json', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'json'), '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const names = jsonEvents(result.stdout).map((e) => e.event);
    const job = names.indexOf('job');
    assert.ok(job >= 0);
    assert.ok(job < names.indexOf('submitted'), names.join(','));
  });

  it('fetch waits for a prompt that is still running, then saves it', async () => {
    const held = gate();
    suite.sim.hooks = holdNode('3', held);
    const promptId = await submitAsOtherClient(suite.sim, tinyWorkflow({ seed: 99 }));
    const out = join(suite.root, 'waited');
    const fetching = startPyros(['fetch', promptId, '--server', suite.sim.url, '-o', out]);
    // It found the prompt unfinished and asks again: it waits.
    const polls = (): number => suite.sim.requests.filter((request) => request.path === `/history/${promptId}`).length;
    await fetching.whileRunning(until(() => polls() >= 2, undefined, 'fetch to ask for the prompt again'));
    held.open();
    const result = await fetching.result;
    assert.equal(result.code, 0, result.stderr);
    await assertSavedIdentical(out, await suite.produced());
  });

  it('fetch --no-wait on a prompt that has not finished exits 2', async () => {
    const held = gate();
    suite.sim.hooks = holdNode('3', held);
    const promptId = await submitAsOtherClient(suite.sim, tinyWorkflow({ seed: 1234567 }));
    const result = await runPyros(['fetch', promptId, '--server', suite.sim.url, '-o', join(suite.root, 'no-wait'), '--no-wait']);
    held.open();
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`Prompt ${promptId} has not finished yet`));
    await waitForHistory(suite.sim, promptId);
  });

  it('fetch of a prompt the server does not know exits 9', async () => {
    const result = await runPyros(['fetch', '00000000-0000-4000-8000-000000000000', '--server', suite.sim.url, '-o', join(suite.root, 'unknown')]);
    assert.equal(result.code, 9, result.stderr);
    assert.match(result.stderr, /knows no prompt 00000000-0000-4000-8000-000000000000/);
  });
});

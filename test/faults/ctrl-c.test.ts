/**
 * Ctrl-C: the first press cancels this job and no other (deleted from the queue when pending,
 * interrupted by prompt id when running), saves what already exists and exits 130; a second
 * press exits at once.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  closedPort,
  combine,
  gate,
  holdNode,
  isQueued,
  jsonEvents,
  openOnInterrupt,
  QUICK_CHECKS,
  savedOutputs,
  sleep,
  stallView,
  startPyros,
  submitAsOtherClient,
  tinyWorkflow,
  twoOutputWorkflow,
  useFaultSuite,
  waitForHistory,
} from '../support/faults.ts';

let seed = Date.now() % 1_000_000;
/** Fresh seeds for both samplers, so that no node of the run comes from the server's cache. */
function freshSeeds(): string[] {
  seed += 2;
  return ['--set', `3.seed=${seed}`, '--set', `10.seed=${seed + 1}`];
}

/** Resolves once a download's temporary file exists in `dir`. */
async function waitForTempFile(dir: string): Promise<void> {
  for (;;) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.some((name) => name.startsWith('.pyros-tmp-'))) return;
    await sleep(10);
  }
}

describe('faults: Ctrl-C', () => {
  const suite = useFaultSuite('ctrlc', { stepMs: 2, flowName: 'two.json', workflow: twoOutputWorkflow({ steps: 4 }) });

  it('interrupts only its own running prompt, saves the output that exists, exits 130', async () => {
    const reached = gate();
    const interrupted = gate();
    // The second sampler waits until the interrupt arrives, so one output exists and one never will.
    suite.sim.hooks = combine(holdNode('10', interrupted, reached), openOnInterrupt(suite.sim, interrupted));
    const out = join(suite.root, 'running');
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, ...freshSeeds(), '-o', out, '--json'], { env: QUICK_CHECKS });
    const [, promptId] = (await running.waitFor(/"event":"job",[^\n]*?"prompt_id":"([^"]+)"/)) as unknown as [string, string];
    await running.whileRunning(reached.wait());
    const other = await submitAsOtherClient(suite.sim, tinyWorkflow({ prefix: 'other', seed: 4242 }));
    running.signal('SIGINT');
    const result = await running.result;

    assert.equal(result.code, 130, result.stderr);
    const events = jsonEvents(result.stdout);
    const error = events.at(-1);
    assert.equal(error?.event, 'error');
    assert.equal(error?.kind, 'cancelled');
    assert.equal(error?.exit_code, 130);
    assert.match(String(error?.message), new RegExp(`Cancelled: prompt ${promptId} was stopped`));
    // Interrupted by id, never globally; nothing deleted from the queue.
    assert.ok(suite.sim.logs.includes(`Interrupting prompt ${promptId}`), suite.sim.logs.join('\n'));
    assert.ok(!suite.sim.logs.some((line) => line.startsWith('Global interrupt')));
    assert.ok(!suite.sim.requests.some((r) => r.method === 'POST' && r.path === '/queue'));
    // The first output was saved, byte for byte; the second was never made.
    const produced = new Map([...(await suite.produced())].filter(([name]) => !name.startsWith('other')));
    assert.deepEqual([...produced.keys()].map((name) => name.split('_')[0]), ['first']);
    await assertSavedIdentical(out, produced);
    assert.ok(events.some((e) => e.event === 'saved'));
    await assertNoTempFiles(out);
    // The other client's prompt was not touched.
    assert.equal((await waitForHistory(suite.sim, other)).status_str, 'success');
  });

  it('deletes only its own pending prompt from the queue, exits 130', async () => {
    const blocker = gate();
    suite.sim.hooks = holdNode('3', blocker);
    const other = await submitAsOtherClient(suite.sim, tinyWorkflow({ prefix: 'other', seed: 777 }));
    const out = join(suite.root, 'pending');
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, ...freshSeeds(), '-o', out], { env: QUICK_CHECKS });
    const [, promptId] = (await running.waitFor(/^prompt ([0-9a-f-]{36})$/m)) as unknown as [string, string];
    await running.waitFor(/Queued|queue/i);
    running.signal('SIGINT');
    const result = await running.result;

    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /cancelling this job \(press Ctrl-C again to quit at once\)/);
    assert.match(result.stderr, new RegExp(`Cancelled: prompt ${promptId} was stopped`));
    assert.ok(suite.sim.requests.some((r) => r.method === 'POST' && r.path === '/queue'), 'not deleted from the queue');
    assert.ok(!suite.sim.requests.some((r) => r.path === '/interrupt'), 'something was interrupted');
    assert.equal(await isQueued(suite.sim, promptId), false);
    assert.equal(await isQueued(suite.sim, other), true);
    blocker.open();
    assert.equal((await waitForHistory(suite.sim, other)).status_str, 'success');
    assert.equal((await savedOutputs(out)).size, 0);
    await assertNoTempFiles(out);
  });

  it('stops a pending --retry at once, exit 130', async () => {
    const port = await closedPort();
    const running = startPyros(['run', suite.flow, '--server', `http://127.0.0.1:${port}`, '-o', join(suite.root, 'retrying'), '--retry', '5'], { env: QUICK_CHECKS });
    await running.waitFor(/resubmitting in [\d.]+ s \(retry 1 of 5\)/);
    running.signal('SIGINT');
    const result = await running.result;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /Cancelled while waiting to resubmit \(the last attempt, prompt [0-9a-f-]{36}, had failed: Cannot connect/);
    assert.doesNotMatch(result.stderr, /retry 2 of 5/);
  });

  it('exits at once on a second Ctrl-C, even while the cancel request hangs', async () => {
    const reached = gate();
    const release = gate();
    suite.sim.hooks = combine(holdNode('3', release, reached), {
      // The server never answers the interrupt: the first press cannot finish.
      onRequest: ({ path }) => path === '/interrupt',
    });
    const out = join(suite.root, 'twice');
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, ...freshSeeds(), '-o', out], { env: QUICK_CHECKS });
    await running.whileRunning(reached.wait());
    await running.waitFor(/Submitted/);
    running.signal('SIGINT');
    await running.waitFor(/cancelling this job/);
    running.signal('SIGINT');
    const result = await running.result;
    release.open();
    assert.equal(result.code, 130, result.stderr);
    await assertNoTempFiles(out);
  });

  it('a second Ctrl-C during a stalled download removes the partial file', async () => {
    suite.sim.hooks = stallView(100);
    const out = join(suite.root, 'stalled-download');
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, ...freshSeeds(), '-o', out], { env: QUICK_CHECKS });
    await running.waitFor(/Downloading outputs/);
    await running.whileRunning(waitForTempFile(out));
    running.signal('SIGINT');
    await running.waitFor(/cancelling this job/);
    running.signal('SIGINT');
    const result = await running.result;
    assert.equal(result.code, 130, result.stderr);
    await assertNoTempFiles(out);
    assert.equal((await savedOutputs(out)).size, 0);
  });

  it('Ctrl-C during pyros fetch stops at once and removes the partial file', async () => {
    const promptId = await submitAsOtherClient(suite.sim, tinyWorkflow({ prefix: 'other', seed: Date.now() % 100_000 }));
    await waitForHistory(suite.sim, promptId);
    suite.sim.hooks = stallView(100);
    const out = join(suite.root, 'stalled-fetch');
    const running = startPyros(['fetch', promptId, '--server', suite.sim.url, '-o', out]);
    await running.whileRunning(waitForTempFile(out));
    running.signal('SIGINT');
    const result = await running.result;
    assert.equal(result.code, 130, result.stderr);
    await assertNoTempFiles(out);
  });
});

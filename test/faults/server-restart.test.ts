/**
 * The server restarts mid-job (its queue and history are gone): a clear `lost` error with exit 9;
 * `--retry N` resubmits. Retries also cover a connection that fails before submission, and never
 * resubmit a rejected workflow or one that failed while running.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { NodeError } from '../../src/sim/index.ts';
import {
  assertEndState,
  assertSavedIdentical,
  gate,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  startPyros,
  tinyWorkflow,
  useFaultSuite,
  type Gate,
} from '../support/faults.ts';

describe('faults: the server restarts mid-job', () => {
  const suite = useFaultSuite('restart', { stepMs: 5, workflow: tinyWorkflow({ steps: 4 }) });
  // A test may leave the server stopped.
  beforeEach(() => suite.sim.start());

  /**
   * Holds the sampler until the test restarts the server; the held run then fails quietly on the
   * old server. `reached` opens when the sampler is held.
   */
  function holdSamplerUntilRestart(): { reached: Gate; restart: () => Promise<void> } {
    const reached = gate();
    const restarting = gate();
    suite.sim.hooks = {
      onNodeStart: async ({ nodeId }) => {
        if (nodeId !== '3') return;
        reached.open();
        await restarting.wait();
        throw new NodeError('RuntimeError', 'the server is going down');
      },
    };
    return {
      reached,
      restart: async () => {
        restarting.open();
        await suite.sim.restart();
        suite.sim.hooks = {};
      },
    };
  }

  it('says the server lost the prompt and exits 9', async () => {
    const hold = holdSamplerUntilRestart();
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'lost'), '--json'], { env: QUICK_CHECKS });
    const [, promptId] = (await running.waitFor(/"event":"started",[^\n]*?"prompt_id":"([^"]+)"/)) as unknown as [string, string];
    await hold.restart();
    const result = await running.result;
    assert.equal(result.code, 9, result.stderr);
    const error = jsonEvents(result.stdout).at(-1);
    assert.equal(error?.event, 'error');
    assert.equal(error?.kind, 'lost');
    assert.equal(error?.exit_code, 9);
    assert.match(String(error?.message), new RegExp(`no longer knows prompt ${promptId}.*restarted`));
    assert.match(String(error?.hint), /--retry/);
  });

  it('notices the restart through the reconnect alone (no quiet-socket polling)', async () => {
    const hold = holdSamplerUntilRestart();
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'lost-reconnect'), '--json'], {
      env: { PYROS_CHECK_INTERVAL: '10m' },
    });
    await running.waitFor(/"event":"started"/);
    await hold.restart();
    const result = await running.result;
    assert.equal(result.code, 9, result.stderr);
    const events = jsonEvents(result.stdout);
    assert.ok(events.some((e) => e.event === 'connection' && e.state === 'reconnected'), 'the socket did not come back');
    assert.equal(events.at(-1)?.kind, 'lost');
  });

  it('says so in words too', async () => {
    const hold = holdSamplerUntilRestart();
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'lost-human')], { env: QUICK_CHECKS });
    await running.waitFor(/KSampler|Running|Submitted/);
    await running.whileRunning(hold.reached.wait());
    await hold.restart();
    const result = await running.result;
    assert.equal(result.code, 9, result.stderr);
    assert.match(result.stderr, /The server no longer knows prompt [0-9a-f-]+: it is neither queued nor in the history \(was the server restarted\?\)/);
  });

  it('--retry resubmits after a restart and saves the new prompt outputs', async () => {
    const hold = holdSamplerUntilRestart();
    const out = join(suite.root, 'retried');
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json', '--retry', '2'], { env: QUICK_CHECKS });
    await running.waitFor(/"event":"started"/);
    await hold.restart();
    const result = await running.result;
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    const jobs = events.filter((e) => e.event === 'job').map((e) => e.prompt_id);
    assert.equal(jobs.length, 2);
    assert.notEqual(jobs[0], jobs[1]);
    const retry = events.find((e) => e.event === 'note' && e.kind === 'retry');
    assert.ok(retry, 'no retry note');
    assert.equal(retry.prompt_id, jobs[0]);
    assert.equal(retry.reason, 'the server lost the prompt');
    assert.match(String(retry.message), new RegExp(`^resubmitting in [\\d.]+ s \\(retry 1 of 2\\): The server no longer knows prompt ${jobs[0]}`));
    assert.equal(events.at(-1)?.prompt_id, jobs[1]);
    await assertEndState(suite, out);
  });

  it('--retry resubmits when the server cannot be reached before submission', async () => {
    await suite.sim.stop();
    const out = join(suite.root, 'down-then-up');
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--retry', '3'], { env: QUICK_CHECKS });
    await running.waitFor(/resubmitting in [\d.]+ s \(retry 1 of 3\): Cannot connect to ComfyUI at .*: connection refused/);
    await suite.sim.start();
    const result = await running.result;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length, 1);
    await assertSavedIdentical(out, await suite.produced());
  });

  it('gives up with the last error once the retries are used up', async () => {
    await suite.sim.stop();
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '-o', join(suite.root, 'never'), '--retry', '1'], { env: QUICK_CHECKS });
    assert.equal(result.code, 3, result.stderr);
    assert.equal((result.stderr.match(/resubmitting/g) ?? []).length, 1);
    assert.match(result.stderr, /Cannot connect to ComfyUI at .*connection refused/);
  });

  it('never resubmits a rejected workflow', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--set', '5.width=0', '-o', join(suite.root, 'rejected'), '--retry', '3'], { env: QUICK_CHECKS });
    assert.equal(result.code, 4, result.stderr);
    assert.equal(suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length, 1);
    assert.doesNotMatch(result.stderr, /resubmitting/);
  });

  it('never resubmits a workflow that failed while running', async () => {
    suite.sim.hooks = {
      onNodeStart: ({ nodeId }) => {
        if (nodeId === '3') throw new NodeError('RuntimeError', 'CUDA out of memory');
      },
    };
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'failed'), '--retry', '3'], { env: QUICK_CHECKS });
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /CUDA out of memory/);
    assert.equal(suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length, 1);
  });

  it('refuses a --retry that is not a count with exit 2', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--retry', 'many']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--retry expects a whole number/);
  });
});

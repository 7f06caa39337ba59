/**
 * The answer to POST /prompt is lost for real: a proxy between pyros and the server forwards the
 * request and cuts the connection (or drops the request). pyros asks the server for the prompt
 * by the id it chose: it follows a prompt the server has, resubmits (with --retry) only one the
 * server provably does not have, and never resubmits while that cannot be known.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertEndState, QUICK_CHECKS, runPyros, tinyWorkflow, useFaultSuite } from '../support/faults.ts';
import { startCutProxy, type CutProxy } from '../support/cut-proxy.ts';
import { runsBySeed } from '../resume/helpers.ts';

describe('faults: the answer to POST /prompt is lost', () => {
  const suite = useFaultSuite('cut-answer', { stepMs: 1, previews: false, workflow: tinyWorkflow({ steps: 2 }) });
  let proxy: CutProxy;
  before(async () => {
    proxy = await startCutProxy({ port: suite.sim.port }, { times: 0 });
  });
  after(async () => {
    await proxy.close();
  });

  const posts = (): number => suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length;

  function cutNext(mode: CutProxy['mode'], times = 1): void {
    proxy.mode = mode;
    proxy.left = times;
  }

  it('the server queued it: pyros finds it by its id and follows it (exit 0, run once)', async () => {
    cutNext('cut');
    const out = join(suite.root, 'found');
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '--seed', '21000', '-o', out, '--verbose'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(proxy.left, 0, 'the answer was cut');
    assert.match(result.stderr, /the answer to POST \/prompt was lost .*; the server has prompt [0-9a-f-]{36}: following it/);
    assert.equal(posts(), 1);
    assert.deepEqual((await runsBySeed(suite.sim, [21000])).get(21000)?.map((run) => run.status), ['success']);
    await assertEndState(suite, out);
  });

  it('the server never got it, without --retry: exit 9, it says nothing runs and how to resubmit', async () => {
    cutNext('drop');
    const out = join(suite.root, 'absent');
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '--seed', '21001', '-o', out], { env: QUICK_CHECKS });
    assert.equal(result.code, 9, result.stderr);
    assert.match(result.stderr, /the server, asked since, does not have prompt [0-9a-f-]{36}: it was never queued/);
    assert.match(result.stderr, /hint: Nothing runs on the server\. Run the command again, or use --retry N/);
    assert.equal(posts(), 0, 'the request never reached the server');
  });

  it('the server never got it, with --retry: resubmitted under a new id, run once', async () => {
    cutNext('drop');
    const out = join(suite.root, 'retried');
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '--seed', '21002', '-o', out, '--retry', '2', '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const retry = events.find((event) => event.kind === 'retry');
    assert.equal(retry?.reason, 'the answer to the submission was lost and the server does not have the prompt');
    const ids = events.filter((event) => event.event === 'job').map((event) => event.prompt_id);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1], 'a new id for the new submission');
    assert.equal(posts(), 1);
    assert.deepEqual((await runsBySeed(suite.sim, [21002])).get(21002)?.map((run) => run.status), ['success']);
    await assertEndState(suite, out);
  });

  it('the server cannot be asked after the cut: exit 3 and no resubmission, even with --retry; pyros resume then finishes it once', async () => {
    cutNext('cut');
    // After the cut, the server answers nothing about its queue and history (for a while).
    let silent = true;
    suite.sim.hooks = { onRequest: ({ path }) => silent && proxy.left === 0 && (path.startsWith('/history') || path === '/queue') };
    const out = join(suite.root, 'unknown');
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '--seed', '21003', '-o', out, '--retry', '3', '--request-timeout', '1s'], { env: QUICK_CHECKS });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /whether http:\/\/127\.0\.0\.1:\d+ queued prompt [0-9a-f-]{36} could not be checked since/);
    assert.match(result.stderr, /Nothing was resubmitted, so it cannot run twice/);
    assert.doesNotMatch(result.stderr, /resubmitting/);
    assert.equal(posts(), 1);
    silent = false;
    suite.sim.hooks = {};
    const resumed = await runPyros(['resume', out], { env: QUICK_CHECKS });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /1 to follow on their server/);
    assert.equal(posts(), 1);
    assert.deepEqual((await runsBySeed(suite.sim, [21003])).get(21003)?.map((run) => run.status), ['success']);
    await assertEndState(suite, out);
  });
});

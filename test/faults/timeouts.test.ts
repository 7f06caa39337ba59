/**
 * Timeouts: the overall --timeout (the job is cancelled on the server), each HTTP request and
 * the WebSocket handshake (--request-timeout), and a /view download that stalls: it fails
 * instead of hanging, and leaves no partial file.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  assertNoTempFiles,
  combine,
  gate,
  holdNode,
  jsonEvents,
  openOnInterrupt,
  outputEntries,
  QUICK_CHECKS,
  runPyros,
  stallView,
  tinyWorkflow,
  useFaultSuite,
  waitForHistory,
} from '../support/faults.ts';

describe('faults: timeouts', () => {
  const suite = useFaultSuite('timeouts', { stepMs: 2, workflow: tinyWorkflow({ steps: 4 }) });

  it('--timeout cancels the job on the server and exits 8', async () => {
    const interrupted = gate();
    suite.sim.hooks = combine(holdNode('3', interrupted), openOnInterrupt(suite.sim, interrupted));
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'timeout'), '--timeout', '300ms', '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    const error = jsonEvents(result.stdout).at(-1);
    assert.equal(error?.kind, 'timeout');
    assert.match(String(error?.message), /did not finish within 0\.3 s \(--timeout\); it was cancelled on the server/);
    const promptId = String(jsonEvents(result.stdout).find((e) => e.event === 'job')?.prompt_id);
    assert.ok(suite.sim.logs.includes(`Interrupting prompt ${promptId}`), suite.sim.logs.join('\n'));
    const status = await waitForHistory(suite.sim, promptId);
    assert.ok(status.messages?.some(([name]) => name === 'execution_interrupted'), 'the prompt was not interrupted on the server');
  });

  it('--timeout also bounds a server that never accepts the prompt', async () => {
    suite.sim.hooks = { onRequest: ({ method, path }) => method === 'POST' && path === '/prompt' };
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '-o', join(suite.root, 'timeout-submit'), '--timeout', '300ms'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /did not finish within 0\.3 s \(--timeout\): the server did not accept it/);
  });

  it('a silent HTTP request fails after --request-timeout with exit 8, and is not resubmitted', async () => {
    suite.sim.hooks = { onRequest: ({ method, path }) => method === 'POST' && path === '/prompt' };
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '-o', join(suite.root, 'silent-post'), '--request-timeout', '300ms', '--retry', '2'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /POST \/prompt on http:\/\/127\.0\.0\.1:\d+ got no answer for 0\.3 s/);
    assert.match(result.stderr, /--request-timeout/);
    assert.equal(suite.sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length, 1);
  });

  it('a /view download that stalls fails with exit 8 and leaves no partial file', async () => {
    suite.sim.hooks = stallView(100);
    const out = join(suite.root, 'stalled');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--request-timeout', '300ms'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /Downloading "fault_\d+_\.png" failed: GET \/view on .* got no answer for 0\.3 s/);
    const promptId = /prompt ([0-9a-f-]{36})/.exec(result.stderr)?.[1];
    assert.match(result.stderr, new RegExp(`pyros fetch ${promptId}`));
    assert.equal((await suite.produced()).size, 1, 'the server produced the output');
    assert.deepEqual(await outputEntries(out), [], 'something was left in the output folder');
    await assertNoTempFiles(out);
  });

  it('a WebSocket handshake that gets no answer fails after --request-timeout with exit 3', async () => {
    // Accepts TCP connections and never says a word.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const result = await runPyros(['run', suite.flow, '--server', `http://127.0.0.1:${port}`, '-o', join(suite.root, 'silent-ws'), '--request-timeout', '300ms']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /The WebSocket to http:\/\/127\.0\.0\.1:\d+ did not open within 0\.3 s/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

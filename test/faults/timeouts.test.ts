/**
 * Timeouts: the overall --timeout (the job is cancelled on the server), each HTTP request and
 * the WebSocket handshake (--request-timeout), and a /view download that stalls: it fails
 * instead of hanging, and leaves no partial file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  assertNoTempFiles,
  gate,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  serverOutputs,
  stallView,
  startFaultSim,
  tinyWorkflow,
  waitForHistory,
  writeWorkflow,
  type FaultSim,
} from '../support/faults.ts';

describe('faults: timeouts', () => {
  let sim: FaultSim;
  let root: string;
  let flow: string;

  before(async () => {
    sim = await startFaultSim({ stepMs: 2 });
    root = await mkdtemp(join(tmpdir(), 'pyros-timeouts-'));
    flow = await writeWorkflow(root, 'flow.json', tinyWorkflow({ steps: 4 }));
  });
  beforeEach(() => {
    sim.hooks = {};
    sim.requests.length = 0;
    sim.logs.length = 0;
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('--timeout cancels the job on the server and exits 8', async () => {
    const interrupted = gate();
    sim.hooks = {
      onNodeStart: async ({ nodeId }) => (nodeId === '3' ? interrupted.wait() : undefined),
      onRequest: ({ path }) => {
        if (path === '/interrupt') setTimeout(() => interrupted.open(), 10);
        return false;
      },
    };
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', join(root, 'timeout'), '--timeout', '300ms', '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    const error = jsonEvents(result.stdout).at(-1);
    assert.equal(error?.kind, 'timeout');
    assert.match(String(error?.message), /did not finish within 0\.3 s \(--timeout\); it was cancelled on the server/);
    const promptId = String(jsonEvents(result.stdout).find((e) => e.event === 'job')?.prompt_id);
    assert.ok(sim.logs.includes(`Interrupting prompt ${promptId}`), sim.logs.join('\n'));
    const status = await waitForHistory(sim, promptId);
    assert.ok(status.messages?.some(([name]) => name === 'execution_interrupted'), 'the prompt was not interrupted on the server');
  });

  it('--timeout also bounds a server that never accepts the prompt', async () => {
    sim.hooks = { onRequest: ({ method, path }) => method === 'POST' && path === '/prompt' };
    const result = await runPyros(['run', flow, '--server', sim.url, '-o', join(root, 'timeout-submit'), '--timeout', '300ms'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /did not finish within 0\.3 s \(--timeout\): the server did not accept it/);
  });

  it('a silent HTTP request fails after --request-timeout with exit 8, and is not resubmitted', async () => {
    sim.hooks = { onRequest: ({ method, path }) => method === 'POST' && path === '/prompt' };
    const result = await runPyros(['run', flow, '--server', sim.url, '-o', join(root, 'silent-post'), '--request-timeout', '300ms', '--retry', '2'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /POST \/prompt on http:\/\/127\.0\.0\.1:\d+ got no answer for 0\.3 s/);
    assert.match(result.stderr, /--request-timeout/);
    assert.equal(sim.requests.filter((r) => r.method === 'POST' && r.path === '/prompt').length, 1);
  });

  it('a /view download that stalls fails with exit 8 and leaves no partial file', async () => {
    const mark = await serverOutputs(sim);
    sim.hooks = stallView(100);
    const out = join(root, 'stalled');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--request-timeout', '300ms'], { env: QUICK_CHECKS });
    assert.equal(result.code, 8, result.stderr);
    assert.match(result.stderr, /Downloading "fault_\d+_\.png" failed: GET \/view on .* got no answer for 0\.3 s/);
    const promptId = /prompt ([0-9a-f-]{36})/.exec(result.stderr)?.[1];
    assert.match(result.stderr, new RegExp(`pyros fetch ${promptId}`));
    assert.equal((await serverOutputs(sim, mark)).size, 1, 'the server produced the output');
    assert.deepEqual(await readdir(out), [], 'something was left in the output folder');
    await assertNoTempFiles(out);
  });

  it('a WebSocket handshake that gets no answer fails after --request-timeout with exit 3', async () => {
    // Accepts TCP connections and never says a word.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const result = await runPyros(['run', flow, '--server', `http://127.0.0.1:${port}`, '-o', join(root, 'silent-ws'), '--request-timeout', '300ms']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /The WebSocket to http:\/\/127\.0\.0\.1:\d+ did not open within 0\.3 s/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

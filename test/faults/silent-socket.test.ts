/**
 * Silent sockets: ComfyUI sends no heartbeat and may be quiet for minutes, and a socket can stay
 * open yet stop delivering events. Liveness is decided by ping/pong, never by inactivity; while
 * the socket is quiet the job's state is checked over HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  combine,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  serverOutputs,
  sleep,
  startFaultSim,
  tinyWorkflow,
  writeWorkflow,
  type FaultSim,
} from '../support/faults.ts';

describe('faults: silent sockets', () => {
  let sim: FaultSim;
  let root: string;
  let flow: string;
  let mark: Map<string, Buffer>;

  before(async () => {
    sim = await startFaultSim({ stepMs: 10 });
    root = await mkdtemp(join(tmpdir(), 'pyros-silent-'));
    flow = await writeWorkflow(root, 'flow.json', tinyWorkflow({ steps: 6 }));
  });
  beforeEach(async () => {
    sim.hooks = {};
    sim.upgrades.length = 0;
    sim.requests.length = 0;
    mark = await serverOutputs(sim);
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('finishes a job whose open socket stopped delivering events, from /history', async () => {
    // The socket stays open and answers pings, but no event reaches it once the run starts.
    let muted = false;
    sim.hooks = {
      onSocketFrame: ({ data, binary }) => {
        if (!binary && String(data).includes('"execution_start"')) muted = true;
        return !muted;
      },
    };
    const out = join(root, 'muted');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jsonEvents(result.stdout).at(-1)?.event, 'result');
    assert.ok(sim.requests.some((r) => r.path.startsWith('/history/')), 'the job was not checked over HTTP');
    assert.equal(sim.upgrades.length, 1, 'a quiet socket was treated as dead');
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    await assertNoTempFiles(out);
  });

  it('keeps waiting through a long silence (a model load) without calling the prompt lost or reconnecting', async () => {
    sim.hooks = {
      onNodeStart: async ({ nodeId }) => {
        if (nodeId !== '3') return;
        // Quiet for many check intervals: the HTTP checks find the prompt running each time.
        while (sim.requests.filter((r) => r.path.startsWith('/history/')).length < 4) await sleep(10);
      },
    };
    const out = join(root, 'long-load');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sim.upgrades.length, 1, 'the silence caused a reconnect');
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
  });

  it('replaces a socket that stops answering pings, and completes', async () => {
    const paused = new Set<WebSocket>();
    sim.hooks = combine(
      {
        onSocketFrame: ({ socket, data, binary }) => {
          // The server stops reading this socket: pings pile up unanswered, frames still flow out.
          if (!binary && String(data).includes('"execution_start"') && sim.upgrades.length === 1 && !paused.has(socket)) {
            paused.add(socket);
            socket.pause();
          }
          return true;
        },
      },
      {
        onNodeStart: async ({ nodeId }) => {
          if (nodeId === '8') while (sim.upgrades.length < 2) await sleep(10);
        },
      },
    );
    const out = join(root, 'no-pong');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], {
      env: { ...QUICK_CHECKS, PYROS_PING_INTERVAL: '100ms' },
    });
    assert.equal(result.code, 0, result.stderr);
    const reconnect = jsonEvents(result.stdout).find((e) => e.event === 'connection' && e.state === 'reconnecting');
    assert.ok(reconnect, 'no reconnect after the pongs stopped');
    assert.match(String(reconnect.reason), /no answer to a ping/);
    for (const socket of paused) socket.terminate();
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    await assertNoTempFiles(out);
  });
});

/**
 * Silent sockets: ComfyUI sends no heartbeat and may be quiet for minutes, and a socket can stay
 * open yet stop delivering events. Liveness is decided by ping/pong, never by inactivity; while
 * the socket is quiet the job's state is checked over HTTP.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import {
  assertEndState,
  assertSavedIdentical,
  combine,
  holdUntilUpgrades,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  sleep,
  tinyWorkflow,
  useFaultSuite,
} from '../support/faults.ts';

describe('faults: silent sockets', () => {
  const suite = useFaultSuite('silent', { stepMs: 10, workflow: tinyWorkflow({ steps: 6 }) });

  it('finishes a job whose open socket stopped delivering events, from /history', async () => {
    // The socket stays open and answers pings, but no event reaches it once the run starts.
    let muted = false;
    suite.sim.hooks = {
      onSocketFrame: ({ data, binary }) => {
        if (!binary && String(data).includes('"execution_start"')) muted = true;
        return !muted;
      },
    };
    const out = join(suite.root, 'muted');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jsonEvents(result.stdout).at(-1)?.event, 'result');
    assert.ok(suite.sim.requests.some((r) => r.path.startsWith('/history/')), 'the job was not checked over HTTP');
    assert.equal(suite.sim.upgrades.length, 1, 'a quiet socket was treated as dead');
    await assertEndState(suite, out);
  });

  it('keeps waiting through a long silence (a model load) without calling the prompt lost or reconnecting', async () => {
    suite.sim.hooks = {
      onNodeStart: async ({ nodeId }) => {
        if (nodeId !== '3') return;
        // Quiet for many check intervals: the HTTP checks find the prompt running each time.
        while (suite.sim.requests.filter((r) => r.path.startsWith('/history/')).length < 4) await sleep(10);
      },
    };
    const out = join(suite.root, 'long-load');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(suite.sim.upgrades.length, 1, 'the silence caused a reconnect');
    await assertSavedIdentical(out, await suite.produced());
  });

  it('replaces a socket that stops answering pings, and completes', async () => {
    const paused = new Set<WebSocket>();
    suite.sim.hooks = combine(
      {
        onSocketFrame: ({ socket, data, binary }) => {
          // The server stops reading this socket: pings pile up unanswered, frames still flow out.
          if (!binary && String(data).includes('"execution_start"') && suite.sim.upgrades.length === 1 && !paused.has(socket)) {
            paused.add(socket);
            socket.pause();
          }
          return true;
        },
      },
      holdUntilUpgrades(suite.sim, 2),
    );
    const out = join(suite.root, 'no-pong');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], {
      env: { ...QUICK_CHECKS, PYROS_PING_INTERVAL: '100ms' },
    });
    assert.equal(result.code, 0, result.stderr);
    const reconnect = jsonEvents(result.stdout).find((e) => e.event === 'connection' && e.state === 'reconnecting');
    assert.ok(reconnect, 'no reconnect after the pongs stopped');
    assert.match(String(reconnect.reason), /no answer to a ping/);
    for (const socket of paused) socket.terminate();
    await assertEndState(suite, out);
  });
});

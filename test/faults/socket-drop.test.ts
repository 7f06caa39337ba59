/**
 * The WebSocket drops mid-job: pyros reconnects with bounded, jittered backoff under the same
 * clientId, catches up over HTTP, and when the socket cannot come back it polls /history.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  assertNoTempFiles,
  assertSavedIdentical,
  closeAtOnce,
  combine,
  dropSocketAfter,
  jsonEvents,
  QUICK_CHECKS,
  refuseUpgrades,
  runPyros,
  serverOutputs,
  sleep,
  startFaultSim,
  startPyros,
  tinyWorkflow,
  writeWorkflow,
  type FaultSim,
} from '../support/faults.ts';

/** The delays announced for reconnect attempts follow the documented schedule: growing, jittered, capped. */
function assertBackoff(events: Record<string, unknown>[]): void {
  const reconnects = events.filter((e) => e.event === 'connection' && e.state === 'reconnecting');
  assert.ok(reconnects.length > 0, 'no reconnect was announced');
  for (const event of reconnects) {
    const attempt = event.attempt as number;
    const delay = event.delay_ms as number;
    const ceiling = Math.min(10_000, 250 * 2 ** (attempt - 1));
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `attempt ${attempt}: delay ${delay} ms outside [${ceiling / 2}, ${ceiling}]`);
    assert.equal(typeof event.reason, 'string');
  }
}

/** Attempt numbers only grow while the socket keeps failing: the backoff never restarts from the first step. */
function assertAttemptsGrow(events: Record<string, unknown>[]): number[] {
  const attempts = events.filter((e) => e.event === 'connection' && e.state === 'reconnecting').map((e) => e.attempt as number);
  for (let i = 1; i < attempts.length; i++) assert.equal(attempts[i], (attempts[i - 1] ?? 0) + 1, `attempts ${attempts.join(',')}`);
  return attempts;
}

/** Holds the run before its decoder until the server has seen `count` WebSocket upgrades. */
function holdUntilUpgrades(sim: FaultSim, count: number) {
  return {
    onNodeStart: async ({ nodeId }: { nodeId: string }) => {
      if (nodeId !== '8') return;
      while (sim.upgrades.length < count) await sleep(10);
    },
  };
}

describe('faults: the WebSocket drops mid-job', () => {
  let sim: FaultSim;
  let root: string;
  let flow: string;

  before(async () => {
    sim = await startFaultSim({ stepMs: 20 });
    root = await mkdtemp(join(tmpdir(), 'pyros-drop-'));
    flow = await writeWorkflow(root, 'flow.json', tinyWorkflow({ steps: 12 }));
  });
  let mark: Map<string, Buffer>;
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

  it('reconnects under the same clientId, announces it, and saves every output', async () => {
    sim.hooks = dropSocketAfter(3);
    const out = join(root, 'drop-json');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assertBackoff(events);
    assert.ok(events.some((e) => e.event === 'connection' && e.state === 'reconnected'), 'no reconnected event');
    assert.equal(events.at(-1)?.event, 'result');
    assert.ok(sim.upgrades.length >= 2, `${sim.upgrades.length} upgrade(s)`);
    assert.equal(new Set(sim.upgrades.map((u) => u.clientId)).size, 1, 'the clientId changed on reconnect');
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    await assertNoTempFiles(out);
  });

  it('shows the reconnect in the display', async () => {
    sim.hooks = dropSocketAfter(3);
    const out = join(root, 'drop-human');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Connection lost, reconnecting \(attempt 1, next try in \d+\.\d s\)/);
    assert.match(result.stderr, /Reconnected/);
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
  });

  it('downloads a job that finished while the socket was down (catch-up from /history after reconnecting)', async () => {
    let finished = false;
    sim.hooks = combine(dropSocketAfter(2), refuseUpgrades(503, () => sim.upgrades.length > 1 && !finished));
    const out = join(root, 'caught-up');
    // No quiet-socket polling here: only the catch-up after the reconnect can find the result.
    const running = startPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: { PYROS_CHECK_INTERVAL: '10m' } });
    await running.waitFor(/"state":"reconnecting"/);
    for (;;) {
      const history = (await (await fetch(`${sim.url}/history`)).json()) as Record<string, { status?: { completed?: boolean } }>;
      if (Object.values(history).some((entry) => entry.status?.completed)) break;
      await sleep(20);
    }
    finished = true;
    const result = await running.result;
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assert.ok(events.some((e) => e.event === 'connection' && e.state === 'reconnected'));
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    await assertNoTempFiles(out);
  });

  it('polls /history when the socket cannot come back (403 on every reconnect), without a tight loop', async () => {
    sim.hooks = combine(dropSocketAfter(2), refuseUpgrades(403, () => sim.upgrades.length > 1), holdUntilUpgrades(sim, 4));
    const out = join(root, 'polled');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assertBackoff(events);
    const attempts = assertAttemptsGrow(events);
    assert.ok(attempts.length >= 3, `attempts: ${attempts.join(',')}`);
    // Every upgrade after the first one is a scheduled, announced attempt: nothing reconnects behind the backoff's back.
    assert.ok(sim.upgrades.length <= attempts.length + 1, `${sim.upgrades.length} upgrades for ${attempts.length} announced attempts`);
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
    await assertNoTempFiles(out);
  });

  it('keeps backing off when the server accepts the socket and closes it at once', async () => {
    sim.hooks = combine(dropSocketAfter(2), closeAtOnce(() => sim.upgrades.length > 1), holdUntilUpgrades(sim, 4));
    const out = join(root, 'flapping');
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assertBackoff(events);
    const attempts = assertAttemptsGrow(events);
    assert.ok(attempts.length >= 3, `attempts: ${attempts.join(',')}`);
    assert.ok(sim.upgrades.length <= attempts.length + 1, `${sim.upgrades.length} upgrades for ${attempts.length} announced attempts`);
    await assertSavedIdentical(out, await serverOutputs(sim, mark));
  });

  it('fails once with exit 3 when the very first WebSocket is refused (403), without retrying (even with --retry)', async () => {
    sim.hooks = refuseUpgrades(403);
    // Not even with --retry: the server answered, and asking again will not change its mind.
    const result = await runPyros(['run', flow, '--server', sim.url, '--seed', 'random', '-o', join(root, 'refused'), '--retry', '3'], { env: QUICK_CHECKS });
    assert.equal(result.code, 3, result.stderr);
    assert.doesNotMatch(result.stderr, /resubmitting/);
    assert.match(result.stderr, /WebSocket upgrade to http:\/\/127\.0\.0\.1:\d+ was refused with HTTP 403/);
    assert.match(result.stderr, /--header or COMFYUI_TOKEN/);
    assert.equal(sim.upgrades.length, 1);
    assert.ok(!sim.requests.some((r) => r.path === '/prompt' && r.method === 'POST'), 'the prompt was submitted anyway');
  });
});

/**
 * The WebSocket drops mid-job: pyros reconnects with bounded, jittered backoff under the same
 * clientId, catches up over HTTP, and when the socket cannot come back it polls /history.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SimHooks } from '../../src/sim/index.ts';
import {
  assertEndState,
  assertSavedIdentical,
  closeAtOnce,
  combine,
  dropSocketAfter,
  holdUntilUpgrades,
  jsonEvents,
  QUICK_CHECKS,
  refuseUpgrades,
  runPyros,
  sleep,
  startPyros,
  tinyWorkflow,
  useFaultSuite,
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

describe('faults: the WebSocket drops mid-job', () => {
  const suite = useFaultSuite('drop', { stepMs: 20, workflow: tinyWorkflow({ steps: 12 }) });

  it('reconnects under the same clientId, announces it, and saves every output', async () => {
    suite.sim.hooks = dropSocketAfter(3);
    const out = join(suite.root, 'drop-json');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assertBackoff(events);
    assert.ok(events.some((e) => e.event === 'connection' && e.state === 'reconnected'), 'no reconnected event');
    assert.equal(events.at(-1)?.event, 'result');
    assert.ok(suite.sim.upgrades.length >= 2, `${suite.sim.upgrades.length} upgrade(s)`);
    assert.equal(new Set(suite.sim.upgrades.map((u) => u.clientId)).size, 1, 'the clientId changed on reconnect');
    await assertEndState(suite, out);
  });

  it('shows the reconnect in the display', async () => {
    suite.sim.hooks = dropSocketAfter(3);
    const out = join(suite.root, 'drop-human');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Connection lost, reconnecting \(attempt 1, next try in \d+\.\d s\)/);
    assert.match(result.stderr, /Reconnected/);
    await assertSavedIdentical(out, await suite.produced());
  });

  it('downloads a job that finished while the socket was down (catch-up from /history after reconnecting)', async () => {
    let finished = false;
    suite.sim.hooks = combine(dropSocketAfter(2), refuseUpgrades(503, () => suite.sim.upgrades.length > 1 && !finished));
    const out = join(suite.root, 'caught-up');
    // No quiet-socket polling here: only the catch-up after the reconnect can find the result.
    const running = startPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: { PYROS_CHECK_INTERVAL: '10m' } });
    await running.waitFor(/"state":"reconnecting"/);
    for (;;) {
      const history = (await (await fetch(`${suite.sim.url}/history`)).json()) as Record<string, { status?: { completed?: boolean } }>;
      if (Object.values(history).some((entry) => entry.status?.completed)) break;
      await sleep(20);
    }
    finished = true;
    const result = await running.result;
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assert.ok(events.some((e) => e.event === 'connection' && e.state === 'reconnected'));
    await assertEndState(suite, out);
  });

  /**
   * Runs pyros into `name` (in root) while the socket drops once and each reconnect then fails the
   * way `failing` makes it (the run is held until four upgrades). Checks that the run completes,
   * that three or more attempts are announced with their backoff delays and growing numbers, and
   * that no upgrade happens behind their back; returns the output folder.
   */
  async function runThroughFailingReconnects(failing: SimHooks, name: string): Promise<string> {
    suite.sim.hooks = combine(dropSocketAfter(2), failing, holdUntilUpgrades(suite.sim, 4));
    const out = join(suite.root, name);
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const events = jsonEvents(result.stdout);
    assertBackoff(events);
    const attempts = assertAttemptsGrow(events);
    assert.ok(attempts.length >= 3, `attempts: ${attempts.join(',')}`);
    // Every upgrade after the first one is a scheduled, announced attempt: nothing reconnects behind the backoff's back.
    assert.ok(suite.sim.upgrades.length <= attempts.length + 1, `${suite.sim.upgrades.length} upgrades for ${attempts.length} announced attempts`);
    return out;
  }

  it('polls /history when the socket cannot come back (403 on every reconnect), without a tight loop', async () => {
    const out = await runThroughFailingReconnects(refuseUpgrades(403, () => suite.sim.upgrades.length > 1), 'polled');
    await assertEndState(suite, out);
  });

  it('keeps backing off when the server accepts the socket and closes it at once', async () => {
    const out = await runThroughFailingReconnects(closeAtOnce(() => suite.sim.upgrades.length > 1), 'flapping');
    await assertSavedIdentical(out, await suite.produced());
  });

  it('fails once with exit 3 when the very first WebSocket is refused (403), without retrying (even with --retry)', async () => {
    suite.sim.hooks = refuseUpgrades(403);
    // Not even with --retry: the server answered, and asking again will not change its mind.
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', join(suite.root, 'refused'), '--retry', '3'], { env: QUICK_CHECKS });
    assert.equal(result.code, 3, result.stderr);
    assert.doesNotMatch(result.stderr, /resubmitting/);
    assert.match(result.stderr, /WebSocket upgrade to http:\/\/127\.0\.0\.1:\d+ was refused with HTTP 403/);
    assert.match(result.stderr, /--header or COMFYUI_TOKEN/);
    assert.equal(suite.sim.upgrades.length, 1);
    assert.ok(!suite.sim.requests.some((r) => r.path === '/prompt' && r.method === 'POST'), 'the prompt was submitted anyway');
  });
});

/**
 * Waiting in tests for something that happens on its own time. The time limit only turns a hang
 * into a failure: it is generous, so that a loaded machine is slower, not red.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const WAIT_LIMIT_MS = 20_000;

/** Resolves once `condition()` holds (checked every 5 ms); rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = WAIT_LIMIT_MS, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Like `until`, for a condition that has to be checked asynchronously. */
export async function untilAsync(condition: () => Promise<boolean>, timeoutMs = WAIT_LIMIT_MS, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

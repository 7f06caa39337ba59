/** Waiting in tests for something that happens on its own time. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves once `condition()` holds (checked every 5 ms); rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

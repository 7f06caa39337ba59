/** When a prompt started and finished, as its history's status messages tell (the server's clock). */
import type { JobTimings } from './job-types.ts';
import type { HistoryEntry } from './schemas-http.ts';

const ENDS = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

export function timingsFromHistory(history: HistoryEntry, fallback: number): JobTimings {
  let startedAt: number | undefined;
  let finishedAt: number | undefined;
  for (const message of history.status?.messages ?? []) {
    if (!Array.isArray(message)) continue;
    const [event, data] = message as [unknown, { timestamp?: unknown } | undefined];
    const timestamp = typeof data?.timestamp === 'number' ? data.timestamp : undefined;
    if (timestamp === undefined) continue;
    if (event === 'execution_start') startedAt = timestamp;
    else if (typeof event === 'string' && ENDS.has(event)) finishedAt = timestamp;
  }
  return { submittedAt: startedAt ?? finishedAt ?? fallback, startedAt, finishedAt: finishedAt ?? fallback };
}

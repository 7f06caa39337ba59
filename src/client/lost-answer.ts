/**
 * When the answer to POST /prompt is lost (the connection was cut, the request timed out, a 5xx
 * came back after the body was sent), the server may or may not have queued the prompt. Its id
 * was chosen here and sent with it, so the server can be asked: the prompt is looked up in /queue
 * and /history a few times over a short while, because the server may still be handling the POST.
 */
import { isPyrosError, PyrosError } from '../errors.ts';
import type { ComfyApi } from './api.ts';

/** `found`: queued, running or finished; `absent`: the server answered, repeatedly, without it; `unknown`: it could not be asked. */
export type LookupResult = 'found' | 'absent' | 'unknown';

/** Answers that say for certain the prompt was not queued (the server refused it, or was never reached). */
const REFUSALS = new Set(['unauthorized', 'not-comfyui', 'tls', 'refused', 'host-not-found', 'upgrade-refused']);

/** Whether a failure of POST /prompt leaves open whether the server queued the prompt. */
export function answerWasLost(error: unknown): boolean {
  if (!isPyrosError(error)) return true;
  if (error.kind === 'rejected' || error.kind === 'usage') return false;
  if (error.kind === 'connection') return !REFUSALS.has(error.reason ?? '');
  return error.kind === 'timeout' || error.kind === 'server';
}

export interface LookupOptions {
  /** How long to keep looking before the prompt counts as absent. */
  budgetMs: number;
  /** Waits `ms` (resolving early when the job ends). */
  pause(ms: number): Promise<void>;
  /** Stops looking (the job ended meanwhile). */
  stopped(): boolean;
}

/** Looks for `promptId` in the server's history and queue until found or `budgetMs` has passed. */
export async function lookUpPrompt(api: ComfyApi, promptId: string, options: LookupOptions): Promise<LookupResult> {
  const start = Date.now();
  const requestLimit = Math.max(1_000, options.budgetMs);
  let answered = 0;
  let lastAnswered = false;
  for (let delay = 0; ; delay = Math.min(delay === 0 ? 100 : delay * 2, 1_000)) {
    await options.pause(delay);
    if (options.stopped()) return 'unknown';
    try {
      if (await api.history(promptId, AbortSignal.timeout(requestLimit))) return 'found';
      const queue = await api.queue(AbortSignal.timeout(requestLimit));
      if ([...queue.running, ...queue.pending].some((entry) => entry.promptId === promptId)) return 'found';
      answered += 1;
      lastAnswered = true;
    } catch {
      lastAnswered = false;
    }
    if (Date.now() - start >= options.budgetMs) break;
  }
  return answered >= 2 && lastAnswered ? 'absent' : 'unknown';
}

/** The failure of POST /prompt, as said in what follows from it (without its closing full stop). */
export function lostCause(error: unknown): string {
  return (error as Error).message.replace(/\.$/, '');
}

/**
 * Why the job fails when the prompt whose answer was lost was not found: `absent` when the server,
 * asked, proved it does not have it (resubmitting is safe); otherwise whether it does is unknown.
 */
export function lostAnswerFailure(error: unknown, lookup: Exclude<LookupResult, 'found'>, fields: { server: string; promptId: string }): { absent: boolean; error: unknown } {
  const cause = lostCause(error);
  const fromServer = isPyrosError(error) && error.kind !== 'connection';
  // A request that got no answer in time may still be in the server's hands: its absence proves nothing.
  const proven = lookup === 'absent' && !(isPyrosError(error) && error.kind === 'timeout');
  if (proven) {
    // An answer of the server's own (a 5xx) says best what went wrong; resubmitting is safe either way.
    if (fromServer) return { absent: true, error };
    return {
      absent: true,
      error: new PyrosError('lost', `${cause}; the server, asked since, does not have prompt ${fields.promptId}: it was never queued.`, { reason: 'not-queued', fields, cause: error }),
    };
  }
  if (fromServer) return { absent: false, error };
  return {
    absent: false,
    error: new PyrosError('connection', `${cause}; whether ${fields.server} queued prompt ${fields.promptId} could not be checked since.`, {
      reason: 'submission-unknown',
      fields,
      cause: error,
    }),
  };
}

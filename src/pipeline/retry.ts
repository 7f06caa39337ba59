/**
 * When a failed job may be submitted again: only when that cannot run it twice, that is when the
 * server lost the prompt (it restarted), the prompt never reached a server, or the answer to
 * POST /prompt was lost and the server, asked since, does not have the prompt. Never while that
 * is unknown, and never after a rejection, a failed node, an interruption or a cancel.
 */
import type { Submission } from '../client/job.ts';
import { UpgradeRefusedError } from '../client/socket.ts';
import { isPyrosError, type PyrosError } from '../errors.ts';

export type RetryReason = 'lost' | 'not-sent' | 'not-queued';

/** A network failure that may pass (refused, reset, timed out), as opposed to an answer or a bad certificate. */
function isTransient(error: PyrosError): boolean {
  if (error instanceof UpgradeRefusedError) return false;
  const code = String((error.cause as NodeJS.ErrnoException | undefined)?.code ?? '');
  return !/CERT|SSL|TLS|SELF_SIGNED/.test(code) && !/certificate/i.test(error.message);
}

export function retryReason(error: unknown, submission: Submission): RetryReason | undefined {
  if (!isPyrosError(error)) return undefined;
  if (submission === 'absent') return 'not-queued';
  if (error.kind === 'lost') return error.reason === 'not-queued' ? 'not-queued' : 'lost';
  if (error.kind === 'connection' && submission === 'not-sent' && isTransient(error)) return 'not-sent';
  return undefined;
}

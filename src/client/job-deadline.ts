/**
 * A job's overall limit (`timeoutMs`), counted from its start. Before the server has
 * the prompt, reaching it ends the job at once; afterwards the prompt is cancelled on the server
 * (the run is briefly waited for, to stop there), then the job ends with what the run had produced.
 */
import { formatSeconds, JobTimeoutError } from './job-errors.ts';

/** How long a timed-out job waits for the server to confirm its cancellation. */
const CANCEL_GRACE_MS = 5_000;

/** The job limited: what the deadline asks of it, and what it does to it. */
export interface LimitedJob {
  /** Whether the server has accepted the prompt. */
  accepted(): boolean;
  fields(): { server: string; promptId: string };
  /** The limit was reached: `error` is the job's outcome from now on, and it counts as cancelled. */
  expired(error: JobTimeoutError): void;
  /** Asks the server to stop the prompt; resolves once the run has ended. */
  stopOnServer(): Promise<unknown>;
  end(error: JobTimeoutError): void;
  debug(message: string): void;
}

export interface Deadline {
  /** Rejects with the timeout error when the limit is reached before the server accepted the prompt. */
  readonly missed: Promise<never>;
  /** Stops the clock (the job ended). */
  clear(): void;
}

export function startDeadline(limitMs: number, job: LimitedJob): Deadline {
  let fail!: (error: Error) => void;
  const missed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  missed.catch(() => undefined);
  const timeout = setTimeout(() => {
    const accepted = job.accepted();
    const fields = job.fields();
    const error = new JobTimeoutError(
      accepted ? `The job did not finish within ${formatSeconds(limitMs)}; it was cancelled on the server.` : `The job did not finish within ${formatSeconds(limitMs)}: the server did not accept it in that time.`,
      { reason: accepted ? 'job' : 'job-not-accepted', fields: { ...fields, limitMs }, promptId: fields.promptId },
    );
    job.expired(error);
    if (!accepted) {
      fail(error);
      return;
    }
    // Tell the server before giving up (a process that exits right after would cut the request), and
    // let the run end there, so that what it had produced is known and kept; but not for long.
    const told = job.stopOnServer().catch((cause: Error) => job.debug(`cancel after the timeout failed: ${cause.message}`));
    const grace = new Promise((resolve) => setTimeout(resolve, CANCEL_GRACE_MS).unref());
    void Promise.race([told, grace]).then(() => job.end(error));
  }, limitMs);
  return { missed, clear: () => clearTimeout(timeout) };
}

/**
 * `--retry N`: resubmits a job when resubmitting cannot run it twice — the server lost the prompt
 * (it restarted), or the connection failed before the prompt reached the server. Never after a
 * rejection, an execution error, an interruption or a Ctrl-C.
 */
import type { Client } from '../client/client.ts';
import type { Job } from '../client/job.ts';
import { backoffDelay } from '../client/socket.ts';
import { isPyrosError, PyrosError } from '../errors.ts';
import { CliError } from './errors/cli-error.ts';
import type { Reporter } from './reporters/reporter.ts';
import { startJob, type JobOutcome } from './run-job.ts';
import type { RunPlan } from './run-plan.ts';

const MAX_RETRIES = 100;

export function parseRetries(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) > MAX_RETRIES) {
    throw new CliError('usage', `--retry expects a whole number from 0 to ${MAX_RETRIES} (got "${text}").`, { hint: 'e.g. --retry 3' });
  }
  return Number(text);
}

/** Connection failures that are an answer (credentials, not ComfyUI) or a bad certificate: asking again does not help. */
const LASTING_CONNECTION_FAILURES: ReadonlySet<string> = new Set(['tls', 'unauthorized', 'upgrade-refused', 'not-comfyui']);

/** A network failure that may pass (refused, reset, timed out), as opposed to an answer or a bad certificate. */
function isTransient(error: PyrosError): boolean {
  return error.reason === undefined || !LASTING_CONNECTION_FAILURES.has(error.reason);
}

/** Why a failed job may be resubmitted, or undefined when it must not be. */
export function retryReason(error: unknown, job: Pick<Job, 'submission'>): string | undefined {
  if (!isPyrosError(error)) return undefined;
  if (error.kind === 'lost') return 'the server lost the prompt';
  if (error.kind === 'connection' && job.submission === 'not-sent' && isTransient(error)) return 'the connection failed before the prompt was submitted';
  return undefined;
}

export interface RetryingRun {
  /** Settles with the outcome of the last attempt. */
  done: Promise<JobOutcome>;
  /** The job of the current attempt (for Ctrl-C). */
  current(): Job;
  /** Stops retrying: a pending retry ends with a `cancelled` error. */
  stop(): void;
}

/** Runs `plan`, resubmitting up to `retries` times (each with a fresh prompt id and a note saying why). */
export function runWithRetries(client: Client, plan: RunPlan, reporter: Reporter, retries: number): RetryingRun {
  let started = startJob(client, plan, reporter);
  let stopped = false;
  let wake: (() => void) | undefined;
  const done = (async (): Promise<JobOutcome> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await started.done;
      } catch (error) {
        const reason = attempt <= retries && !stopped ? retryReason(error, started.job) : undefined;
        if (!reason) throw error;
        const delayMs = backoffDelay(attempt + 2);
        const lostId = started.job.promptId;
        reporter.note(`resubmitting in ${(delayMs / 1000).toFixed(1)} s (retry ${attempt} of ${retries}): ${(error as Error).message}`, {
          kind: 'retry',
          attempt,
          retries,
          reason,
          delay_ms: delayMs,
          prompt_id: lostId,
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (stopped) throw new PyrosError('cancelled', `Cancelled while waiting to resubmit (the last attempt, prompt ${lostId}, had failed: ${(error as Error).message})`);
        started = startJob(client, plan, reporter);
      }
    }
  })();
  return {
    done,
    current: () => started.job,
    stop: () => {
      stopped = true;
      wake?.();
    },
  };
}

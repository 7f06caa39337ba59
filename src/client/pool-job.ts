/**
 * One job of a pool: the events of whichever server runs it, and one result. Its state machine:
 *
 *   waiting ⇄ on-server ─→ done        (back to waiting when its server fails)
 *
 * The pool moves it; every change goes through `enter()`.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from './client.ts';
import { InterruptedError } from './job-errors.ts';
import type { Job, JobEvents, JobOptions, JobResult, Submission } from './job.ts';
import type { PoolMember } from './pool-member.ts';
import { RelayingEmitter } from './relay.ts';
import type { ApiWorkflow } from './types.ts';

export interface PoolAttempt {
  server: string;
  promptId: string;
  /** `moved`: the server failed and the job went elsewhere. */
  outcome: 'running' | 'done' | 'failed' | 'moved';
  reason?: string;
}

export interface PoolJobResult extends JobResult {
  /** The server that ran it (display form). */
  server: string;
  /** The client of that server, e.g. to download the outputs with `client.api.view()`. */
  client: Client;
  attempts: PoolAttempt[];
}

export type PoolJobEvents = JobEvents & {
  /** Sent to a server (again after a move, with a new prompt id). */
  dispatched: [info: { server: string; promptId: string; attempt: number }];
  /** Its server failed; the job waits for another one. */
  moved: [info: { from: string; promptId: string; reason: string }];
};

export const FORWARDED_EVENTS: readonly (keyof JobEvents)[] = ['uploaded', 'submitted', 'queued', 'started', 'cached', 'node', 'progress', 'overall', 'preview', 'executed', 'text', 'connection', 'debug'];
const FORWARDED = new Set<string>(FORWARDED_EVENTS);

type PoolJobState =
  | { phase: 'waiting' }
  | { phase: 'on-server'; member: PoolMember<PoolJob>; job: Job; detach: () => void }
  | { phase: 'done' };

export class PoolJob extends RelayingEmitter<PoolJobEvents> {
  /** Order of submission to the pool (0-based). */
  readonly index: number;
  readonly workflow: ApiWorkflow;
  readonly options: JobOptions;
  readonly result: Promise<PoolJobResult>;
  readonly attempts: PoolAttempt[] = [];
  /** A prompt to follow by id rather than a workflow to submit (`Pool.follow`). */
  readonly follows: string | undefined;
  /** @internal A followed prompt lives on one server: the job goes there only. */
  pinnedTo: unknown;
  private current: PoolJobState = { phase: 'waiting' };
  private lastSubmission: Submission = 'not-sent';
  private nextPromptId: string;
  private resolve!: (result: PoolJobResult) => void;
  private reject!: (error: unknown) => void;
  private readonly onCancel: (job: PoolJob) => void;

  /** @internal */
  constructor(init: { index: number; workflow: ApiWorkflow; options: JobOptions; follows?: string; onCancel: (job: PoolJob) => void }) {
    super();
    this.index = init.index;
    this.workflow = init.workflow;
    this.options = init.options;
    this.follows = init.follows;
    this.onCancel = init.onCancel;
    this.nextPromptId = init.follows ?? init.options.promptId ?? randomUUID();
    this.result = new Promise<PoolJobResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.result.catch(() => undefined);
    const signal = init.options.signal;
    if (signal) {
      const onAbort = (): void => void this.cancel();
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
      void this.result.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    }
  }

  get phase(): PoolJobState['phase'] {
    return this.current.phase;
  }

  get settled(): boolean {
    return this.current.phase === 'done';
  }

  /** The prompt id of the current (or next) submission; it changes when the job moves. */
  get promptId(): string {
    return this.current.phase === 'on-server' ? this.current.job.promptId : this.nextPromptId;
  }

  /** Whether the server of its last attempt got the prompt (see `Job.submission`). */
  get submission(): Submission {
    return this.current.phase === 'on-server' ? this.current.job.submission : this.lastSubmission;
  }

  /** The server it runs on, or ran on last. */
  get server(): string | undefined {
    return this.attempts.at(-1)?.server;
  }

  /** @internal The job on a server, while it is on one. */
  get running(): { member: PoolMember<PoolJob>; job: Job } | undefined {
    return this.current.phase === 'on-server' ? this.current : undefined;
  }

  /** Removes it from the pool's queue, or cancels it on its server; the result rejects with `cancelled`. */
  async cancel(): Promise<void> {
    if (this.current.phase === 'done') return;
    if (this.current.phase === 'on-server') {
      await this.current.job.cancel();
      return;
    }
    this.onCancel(this);
    this.fail(new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true }));
  }

  // ── transitions (called by the pool) ─────────────────────────────────────────────────

  /** @internal Sent to `member` as `job`, whose events become this job's. */
  attach(member: PoolMember<PoolJob>, job: Job): void {
    const relay = (event: keyof JobEvents, args: unknown[]): void => {
      if (FORWARDED.has(event)) (this.emit as (event: string, ...rest: unknown[]) => boolean)(event, ...args);
    };
    job.relay = relay;
    const detach = (): void => {
      if (job.relay === relay) job.relay = undefined;
    };
    this.enter({ phase: 'on-server', member, job, detach });
    this.attempts.push({ server: member.display, promptId: job.promptId, outcome: 'running' });
    this.emit('dispatched', { server: member.display, promptId: job.promptId, attempt: this.attempts.length });
  }

  /** @internal Taken off its server, which failed: back to waiting. */
  detach(reason: string): void {
    const record = this.attempts.at(-1);
    if (record) {
      record.outcome = 'moved';
      record.reason = reason;
    }
    this.nextPromptId = randomUUID();
    this.enter({ phase: 'waiting' });
  }

  /** @internal */
  succeed(result: JobResult, member: PoolMember<PoolJob>): void {
    if (this.current.phase === 'done') return;
    const record = this.attempts.at(-1);
    if (record) record.outcome = 'done';
    this.enter({ phase: 'done' });
    this.resolve({ ...result, server: member.display, client: member.client, attempts: this.attempts });
  }

  /** @internal */
  fail(error: unknown, reason?: string): void {
    if (this.current.phase === 'done') return;
    const record = this.current.phase === 'on-server' ? this.attempts.at(-1) : undefined;
    if (record) {
      record.outcome = 'failed';
      record.reason = reason;
    }
    this.enter({ phase: 'done' });
    this.reject(error);
  }

  private enter(next: PoolJobState): void {
    if (this.current.phase === 'done') throw new Error(`pool job ${this.index + 1} is already done`);
    if (this.current.phase === 'on-server') {
      this.lastSubmission = this.current.job.submission;
      this.current.detach();
    }
    this.current = next;
  }
}

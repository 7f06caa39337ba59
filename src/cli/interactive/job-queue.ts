/**
 * The jobs of a session: each one submitted at once (the server queues them in order) and shown
 * on the display one after the other, through the same pipeline as `pyros run` (`startJob`,
 * reporters, `outcomeReport`, error blocks).
 */
import type { Client } from '../../client/client.ts';
import type { Job } from '../../client/job.ts';
import { CliError } from '../errors/cli-error.ts';
import type { SavedFile } from '../../outputs/save.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { outcomeReport, startJob, type JobOutcome } from '../run-job.ts';
import type { RunPlan } from '../run-plan.ts';
import { DeferredReporter } from './deferred-reporter.ts';
import type { Reporter } from '../reporters/reporter.ts';

export interface QueuedJob {
  number: number;
  label: string;
  plan: RunPlan;
  job: Job;
  client: Client;
  reporter: DeferredReporter;
  done: Promise<JobOutcome>;
  /** Ctrl-C presses while it was shown. */
  cancels: number;
  abandon: () => void;
  abandoned: Promise<never>;
}

export interface JobQueueOptions {
  verbose: boolean;
  secrets: readonly string[];
  /** Called after each job, once its report is printed. */
  onFinished?: (entry: QueuedJob, outcome: { ok: true; saved: SavedFile[] } | { ok: false; error: unknown }) => void;
}

export class JobQueue {
  private readonly options: JobQueueOptions;
  private readonly waiting: QueuedJob[] = [];
  private shown: QueuedJob | undefined;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private reportWaiters: (() => void)[] = [];
  private counter = 0;
  readonly stats = { ok: 0, failed: 0, firstFailureCode: 0 };

  constructor(options: JobQueueOptions) {
    this.options = options;
  }

  /** Jobs submitted and not yet reported (the one shown included). */
  get size(): number {
    return this.waiting.length + (this.shown ? 1 : 0);
  }

  get current(): QueuedJob | undefined {
    return this.shown;
  }

  /** Jobs submitted so far in this session. */
  get submittedCount(): number {
    return this.counter;
  }

  /** Whether a job not yet reported runs on this client. */
  uses(client: Client): boolean {
    return this.shown?.client === client || this.waiting.some((entry) => entry.client === client);
  }

  /**
   * Submits a job now; it is shown when the jobs before it are done. `before` may report
   * notes (which inputs were patched) ahead of the job's own lines.
   */
  submit(client: Client, plan: RunPlan, reporterFor: (job: { number: number; label: string }) => Reporter, before?: (reporter: Reporter) => void): QueuedJob {
    const number = ++this.counter;
    const label = `job ${number}`;
    const deferred = new DeferredReporter(reporterFor({ number, label }));
    before?.(deferred);
    const { job, done } = startJob(client, plan, deferred);
    done.catch(() => undefined);
    let abandon!: () => void;
    const abandoned = new Promise<never>((_, reject) => {
      abandon = () => reject(new CliError('cancelled', `Stopped following prompt ${job.promptId}; it may still run on the server.`, { hint: `Fetch its outputs later with: pyros fetch ${job.promptId}` }));
    });
    abandoned.catch(() => undefined);
    const entry: QueuedJob = { number, label, plan, job, client, reporter: deferred, done, cancels: 0, abandon, abandoned };
    this.waiting.push(entry);
    void this.pump();
    return entry;
  }

  /** Ctrl-C: the first asks the server to stop the shown job, the second stops waiting for it. */
  cancelCurrent(): QueuedJob | undefined {
    const entry = this.shown;
    if (!entry) return undefined;
    entry.cancels += 1;
    if (entry.cancels === 1) {
      entry.reporter.phase('cancelling');
      entry.reporter.note('cancelling this job (press Ctrl-C again to stop waiting for it)…');
      entry.job.cancel().catch((error: Error) => entry.reporter.debug(`cancel failed: ${error.message}`));
    } else {
      entry.abandon();
    }
    return entry;
  }

  /** Cancels the jobs waiting for their turn (they are removed from the server's queue). */
  cancelWaiting(): number {
    for (const entry of this.waiting) {
      entry.cancels += 1;
      entry.job.cancel().catch(() => undefined);
    }
    return this.waiting.length;
  }

  /** Resolves once fewer than `max` jobs are waiting or shown (piped input reads ahead no further). */
  async waitForRoom(max: number): Promise<void> {
    while (this.size >= max) await new Promise<void>((resolve) => this.reportWaiters.push(resolve));
  }

  /** Resolves when every submitted job has been reported. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let entry = this.waiting.shift(); entry; entry = this.waiting.shift()) {
        this.shown = entry;
        await this.present(entry);
        this.shown = undefined;
        for (const resolve of this.reportWaiters.splice(0)) resolve();
      }
    } finally {
      this.pumping = false;
      this.shown = undefined;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async present(entry: QueuedJob): Promise<void> {
    const { reporter, plan, client } = entry;
    await reporter.activate();
    try {
      const outcome = await Promise.race([entry.done, entry.abandoned]);
      const report = outcomeReport(outcome, plan, client.endpoint.display);
      reporter.result(report.lines, { ...report.data, job: entry.number });
      this.stats.ok += 1;
      this.options.onFinished?.(entry, { ok: true, saved: outcome.saved });
    } catch (error) {
      reporter.error(errorBlock(error, { verbose: this.options.verbose, secrets: this.options.secrets, workflow: plan.patched.workflow }), { ...errorEvent(error, this.options.secrets), job: entry.number });
      this.stats.failed += 1;
      if (this.stats.firstFailureCode === 0) this.stats.firstFailureCode = exitCodeOf(error);
      this.options.onFinished?.(entry, { ok: false, error });
    } finally {
      reporter.close();
    }
  }
}

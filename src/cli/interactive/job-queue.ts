/**
 * The jobs of a session: each one goes on the pipeline at once (the pool queues them in order)
 * and is shown on the display one after the other, told the same way as `pyros run` tells one
 * job (narration, outcome lines, error blocks).
 */
import type { Pool } from '../../client/pool.ts';
import { CliError } from '../errors/cli-error.ts';
import type { SavedFile } from '../../outputs/save.ts';
import type { JobOutcome, PipelineJob } from '../../pipeline/index.ts';
import { exitCodeOf } from '../report-error.ts';
import { narrateJob, type NarrateOptions } from '../reporters/narrate.ts';
import { failureReport, successReport } from '../reporters/outcome.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { DeferredReporter } from './deferred-reporter.ts';

export interface QueuedJob {
  number: number;
  label: string;
  job: PipelineJob;
  /** The pool it runs on (a /server switch leaves earlier jobs on the old one). */
  pool: Pool;
  outputDir: string;
  reporter: DeferredReporter;
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

  /** Whether a job not yet reported runs on this pool. */
  uses(pool: Pool): boolean {
    return this.shown?.pool === pool || this.waiting.some((entry) => entry.pool === pool);
  }

  /** Starts a job now (`start` gets its number); it is shown when the jobs before it are done. */
  submit(
    init: { pool: Pool; outputDir: string; start: (number: number) => PipelineJob },
    reporterFor: (job: { number: number; label: string }) => Reporter,
    narration: NarrateOptions = {},
  ): QueuedJob {
    const number = ++this.counter;
    const label = `job ${number}`;
    const reporter = new DeferredReporter(reporterFor({ number, label }));
    const job = init.start(number);
    narrateJob(job, reporter, narration);
    let abandon!: () => void;
    const abandoned = new Promise<never>((_, reject) => {
      abandon = () => reject(new CliError('cancelled', `Stopped following prompt ${job.promptId}; it may still run on the server.`, { hint: `Fetch its outputs later with: pyros fetch ${job.promptId}` }));
    });
    abandoned.catch(() => undefined);
    const entry: QueuedJob = { number, label, job, pool: init.pool, outputDir: init.outputDir, reporter, cancels: 0, abandon, abandoned };
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
    const { reporter } = entry;
    await reporter.activate();
    let outcome: JobOutcome;
    try {
      outcome = await Promise.race([entry.job.result, entry.abandoned]);
    } catch (error) {
      outcome = { ok: false, index: 0, promptId: entry.job.promptId, server: entry.job.server, attempts: [], files: [], record: undefined, prepared: undefined, error, stage: 'run' };
    }
    if (outcome.ok) {
      const report = successReport(outcome, entry.outputDir);
      reporter.result(report.lines, { ...report.data, job: entry.number });
      this.stats.ok += 1;
      this.options.onFinished?.(entry, { ok: true, saved: outcome.files });
    } else {
      const { block, event } = failureReport(outcome, { verbose: this.options.verbose, secrets: this.options.secrets, pool: entry.pool.servers().length > 1 });
      reporter.error(block, { ...event, job: entry.number });
      this.stats.failed += 1;
      if (this.stats.firstFailureCode === 0) this.stats.firstFailureCode = exitCodeOf(outcome.error);
      this.options.onFinished?.(entry, { ok: false, error: outcome.error });
    }
    reporter.close();
  }
}

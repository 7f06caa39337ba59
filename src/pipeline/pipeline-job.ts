/**
 * One job on the one road every front end takes: prepare → dispatch (a pool of one or more
 * servers) → follow → save outputs and sidecars → outcome. A followed prompt (`pyros fetch`)
 * joins the road at "follow". The job emits everything it does as typed events; it never
 * speaks to a person. Its `result` never rejects: a failure is an outcome too.
 */
import { EventEmitter } from 'node:events';
import { partialOutputsOf } from '../client/job-errors.ts';
import type { Pool, PoolJob, PoolJobEvents, PoolJobResult, PoolAttempt } from '../client/pool.ts';
import { FORWARDED_EVENTS } from '../client/pool-job.ts';
import { backoffDelay } from '../client/socket.ts';
import { isPyrosError, PyrosError } from '../errors.ts';

/** Times a finished job whose server died before its outputs were downloaded runs again elsewhere. */
const MAX_DOWNLOAD_MOVES = 2;
/** The events of the pool job that are this job's too. */
const TRACKED_EVENTS = new Set<string>([...FORWARDED_EVENTS, 'dispatched', 'moved']);
import { savePartialOutputs, saveJobOutputs, type EarlierSaves } from '../outputs/save-job.ts';
import { outputKey, type SaveContext, type SavedFile } from '../outputs/save.ts';
import type { JobSpec, RunPlan } from './plan.ts';
import { prepareJob, type PreparedJob, type PrepareOptions } from './prepare.ts';
import type { JobRef, RunJournal } from './run-journal.ts';
import { recordExtraData, recordOf, type JobRecord } from './record.ts';
import { retryReason, type RetryReason } from './retry.ts';
import { sidecarContext } from './sidecar.ts';
import { seedValues } from '../workflow/seed-values.ts';

export type PipelineJobEvents = PoolJobEvents & {
  /** Its workflow is patched and its prompt expanded; it is about to be queued. */
  prepared: [job: PreparedJob];
  /** It failed in a way that cannot have run it, and goes again after `delayMs`. */
  retrying: [info: { attempt: number; retries: number; delayMs: number; reason: RetryReason; error: unknown; promptId: string }];
  /** Files saved so far, out of all (saving starts with `done: 0`). */
  saving: [info: { done: number; total: number }];
  saved: [file: SavedFile];
};

interface OutcomeBase {
  /** 0-based position in its run. */
  index: number;
  promptId: string;
  /** The server that ran it, or ran its last attempt. */
  server: string | undefined;
  attempts: PoolAttempt[];
  /** Files saved: every output on success, what the server had produced on failure. */
  files: SavedFile[];
  record: JobRecord | undefined;
  prepared: PreparedJob | undefined;
}

export interface JobSucceeded extends OutcomeBase {
  ok: true;
  result: PoolJobResult;
}

export interface JobFailed extends OutcomeBase {
  ok: false;
  error: unknown;
  /** Where it failed: before any server saw it, on the server, or while saving its outputs. */
  stage: 'prepare' | 'run' | 'save';
}

export type JobOutcome = JobSucceeded | JobFailed;

export interface PipelineContext {
  pool: Pool;
  outputDir: string;
  /** The run's journal: every job records its plan, dispatches, end and saved files there. */
  journal?: RunJournal;
}

/** How a job joins the road: where it is in the journal, what a killed run of it had done, how it is prepared. */
export interface JobStart {
  /** Its place in the journal (default: the plan's, for `submit`). */
  ref?: JobRef;
  /** What a killed run of it had saved (a followed prompt). */
  earlier?: EarlierSaves;
  /** The prompt text and variable choices it was prepared with before (not chosen again). */
  prepare?: PrepareOptions;
  /** Already prepared (the caller checked it before anything was sent). */
  prepared?: PreparedJob;
}

export class PipelineJob extends EventEmitter<PipelineJobEvents> {
  readonly index: number;
  readonly result: Promise<JobOutcome>;
  /** Settles when the run on the server is over (before the outputs are saved), whatever its end. */
  readonly ran: Promise<void>;
  /** Settles once the job waits in the pool (or has ended before): jobs started in order queue in order. */
  readonly queued: Promise<void>;
  private endRun!: () => void;
  private markQueued!: () => void;
  private current: PoolJob | undefined;
  private prepared: PreparedJob | undefined;
  private cancelled = false;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private readonly context: PipelineContext;
  private followedId: string | undefined;
  private readonly ref: JobRef | undefined;
  private readonly earlier: EarlierSaves | undefined;
  /** True for a prompt followed by id (`follow`), which skips preparing and submitting. */
  readonly followsPrompt: boolean;

  private constructor(
    context: PipelineContext,
    index: number,
    run: (job: PipelineJob) => Promise<JobOutcome>,
    journal: { ref?: JobRef; earlier?: EarlierSaves } = {},
    followed?: string,
  ) {
    super();
    this.followsPrompt = followed !== undefined;
    this.followedId = followed;
    this.context = context;
    this.index = index;
    this.ref = context.journal ? journal.ref : undefined;
    this.earlier = journal.earlier;
    this.ran = new Promise<void>((resolve) => {
      this.endRun = resolve;
    });
    this.queued = new Promise<void>((resolve) => {
      this.markQueued = resolve;
    });
    // Listeners attach after construction: the road starts on the next turn.
    this.result = Promise.resolve()
      .then(() => run(this))
      .then((outcome) => this.recordEnd(outcome))
      .finally(() => {
        this.markQueued();
        this.endRun();
      });
  }

  /**
   * A job of `plan`: prepared, submitted (again when retrying is safe and allowed), followed,
   * saved. With a journal in the context, `plan` must have been given to its `addJobs` (or a
   * resumed job says where it is with `start.ref`).
   */
  static submit(context: PipelineContext, plan: RunPlan, spec: JobSpec, start: JobStart = {}): PipelineJob {
    const ref = start.ref ?? context.journal?.ref(plan, spec);
    return new PipelineJob(context, spec.index, (job) => job.runSubmitted(plan, spec, start), { ref, earlier: start.earlier });
  }

  /** A prompt already on a server of the pool, by its id: followed, then saved like a run of it. */
  static follow(context: PipelineContext, promptId: string, options: { server?: string; index?: number } & Pick<JobStart, 'ref' | 'earlier'> = {}): PipelineJob {
    return new PipelineJob(context, options.index ?? 0, (job) => job.runFollowed(promptId, options.server), { ref: options.ref, earlier: options.earlier }, promptId);
  }

  /** The prompt id of the current (or last) submission. */
  get promptId(): string {
    return this.current?.promptId ?? this.followedId ?? '';
  }

  get server(): string | undefined {
    return this.current?.server;
  }

  /** The workflow it submits (patched), or the one a followed prompt ran; undefined until known. */
  get workflow(): PoolJobResult['workflow'] | undefined {
    return this.current?.running?.job.workflow ?? this.prepared?.workflow;
  }

  /** Stops this job: out of the pool's queue, or cancelled on its server; a pending retry is dropped. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    this.wake?.();
    this.abort.abort();
    await this.current?.cancel();
  }

  private async runSubmitted(plan: RunPlan, spec: JobSpec, start: JobStart): Promise<JobOutcome> {
    try {
      this.prepared = start.prepared ?? (await prepareJob(plan, spec, start.prepare));
    } catch (error) {
      return this.failed(error, 'prepare', [], undefined);
    }
    const prepared = this.prepared;
    const { journal } = this.context;
    const ref = this.ref;
    if (journal && ref) await journal.prepared(ref, prepared).catch(() => undefined);
    this.emit('prepared', prepared);
    let moves = 0;
    for (let attempt = 1; ; attempt++) {
      const poolJob = this.context.pool.run(prepared.workflow, {
        uploads: plan.uploads,
        extraData: { ...recordExtraData(prepared.record), ...(prepared.editorWorkflow ? { extra_pnginfo: { workflow: prepared.editorWorkflow } } : {}) },
        timeoutMs: plan.timeoutMs,
        front: plan.front,
        outputs: plan.outputs,
        signal: this.abort.signal,
        // The journal knows the prompt id and the server before the server can have the prompt.
        beforeSubmit: journal && ref ? (info) => journal.dispatched(ref, info) : undefined,
      });
      this.track(poolJob);
      this.markQueued();
      let result: PoolJobResult;
      try {
        result = await poolJob.result;
        this.endRun();
        await this.recordFinished(result);
      } catch (error) {
        const reason = attempt <= plan.retries && !this.cancelled ? retryReason(error, poolJob.submission) : undefined;
        if (reason === undefined) {
          this.endRun();
          return this.failed(error, 'run', await this.savePartial(error, prepared.record), prepared.record);
        }
        const delayMs = backoffDelay(attempt + 2);
        this.emit('retrying', { attempt, retries: plan.retries, delayMs, reason, error, promptId: poolJob.promptId });
        await this.pause(delayMs);
        if (this.cancelled) {
          const message = `Cancelled while waiting to resubmit (the last attempt, prompt ${poolJob.promptId}, had failed: ${(error as Error).message})`;
          return this.failed(new PyrosError('cancelled', message, { reason: 'by-user', fields: { promptId: poolJob.promptId }, cause: error }), 'run', [], prepared.record);
        }
        continue;
      }
      const outcome = await this.save(result, prepared.record);
      if (outcome.ok || !this.mayRunElsewhere(outcome, (moves += 1))) return outcome;
      // It finished, but its server went away before the files were down: run it again on another one.
      const reason = `its outputs could not be downloaded: ${(outcome.error as Error).message}`;
      this.emit('moved', { from: result.server, promptId: result.promptId, reason });
      attempt -= 1;
    }
  }

  /** Whether a job whose outputs were lost with its server may run on another server of the pool. */
  private mayRunElsewhere(outcome: JobFailed, moves: number): boolean {
    if (outcome.stage !== 'save' || this.cancelled || moves > MAX_DOWNLOAD_MOVES) return false;
    if (!isPyrosError(outcome.error) || outcome.error.kind !== 'connection') return false;
    return this.context.pool.servers().some((info) => info.state === 'up' && info.server !== outcome.server);
  }

  private async runFollowed(promptId: string, server: string | undefined): Promise<JobOutcome> {
    const poolJob = this.context.pool.follow(promptId, { server, signal: this.abort.signal });
    this.track(poolJob);
    let result: PoolJobResult;
    try {
      result = await poolJob.result;
    } catch (error) {
      this.endRun();
      const client = poolJob.server ? this.context.pool.clientOf(poolJob.server) : undefined;
      const history = await client?.api.history(promptId).catch(() => undefined);
      const workflow = (history?.prompt?.[2] ?? {}) as PoolJobResult['workflow'];
      return this.failed(error, 'run', await this.savePartial(error, recordOf(history, workflow), workflow), undefined);
    }
    this.endRun();
    await this.recordFinished(result);
    return this.save(result, recordOf(result.history, result.workflow));
  }

  /** The run on the server ended: the journal lists its outputs. */
  private async recordFinished(result: PoolJobResult): Promise<void> {
    if (!this.context.journal || !this.ref) return;
    const outputs = result.outputs.map((output) => ({ key: outputKey(output), nodeId: output.nodeId }));
    await this.context.journal.finished(this.ref, { promptId: result.promptId, server: result.server, outputs }).catch(() => undefined);
  }

  /** The job's end goes into the journal (a failure to write it is not the job's). */
  private async recordEnd(outcome: JobOutcome): Promise<JobOutcome> {
    if (this.context.journal && this.ref) await this.context.journal.done(this.ref, outcome).catch(() => undefined);
    return outcome;
  }

  /** Makes `poolJob` the current attempt: its events become this job's. */
  private track(poolJob: PoolJob): void {
    this.current = poolJob;
    poolJob.relay = (event, args) => {
      if (TRACKED_EVENTS.has(event)) (this.emit as (name: string, ...rest: unknown[]) => boolean)(event, ...args);
    };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async save(result: PoolJobResult, record: JobRecord): Promise<JobOutcome> {
    const files: SavedFile[] = [];
    const context = { ...sidecarContext({ dir: this.context.outputDir, record, promptId: result.promptId, server: result.server, workflow: result.workflow, seeds: result.seeds, timings: result.timings }), journal: this.saveJournal() };
    let all: SavedFile[];
    try {
      all = await saveJobOutputs(
        result.client.api,
        result,
        context,
        {
          progress: (info) => this.emit('saving', info),
          saved: (file) => {
            files.push(file);
            this.emit('saved', file);
          },
          failed: ({ output, error }) => this.emit('debug', `could not save ${output.item.filename}: ${(error as Error).message}`),
        },
        this.earlier,
      );
    } catch (error) {
      return this.failed(error, 'save', files, record);
    }
    return { ok: true, index: this.index, promptId: result.promptId, server: result.server, attempts: result.attempts, files: all, record, prepared: this.prepared, result };
  }

  private saveJournal(): SaveContext['journal'] {
    return this.context.journal && this.ref ? this.context.journal.saves(this.ref) : undefined;
  }

  /** After a failure on the server: saves what it had already produced, so nothing is lost. */
  private async savePartial(error: unknown, record: JobRecord, workflow = this.prepared?.workflow ?? {}): Promise<SavedFile[]> {
    const outputs = partialOutputsOf(error);
    const client = this.current?.server ? this.context.pool.clientOf(this.current.server) : undefined;
    if (outputs.length === 0 || !client || !this.current?.server) return [];
    const context = { ...sidecarContext({ dir: this.context.outputDir, record, promptId: this.promptId, server: this.current.server, workflow, seeds: seedValues(workflow) }), journal: this.saveJournal() };
    return savePartialOutputs(
      client.api,
      outputs,
      context,
      {
        saved: (file) => this.emit('saved', file),
        failed: ({ output, error: cause }) => this.emit('debug', `could not save ${output.item.filename}: ${(cause as Error).message}`),
      },
      this.earlier,
    );
  }

  private failed(error: unknown, stage: JobFailed['stage'], files: SavedFile[], record: JobRecord | undefined): JobFailed {
    return { ok: false, index: this.index, promptId: this.promptId, server: this.server, attempts: this.current?.attempts ?? [], files, record, prepared: this.prepared, error, stage };
  }
}

/**
 * One prompt from submission to its outputs: an explicit state machine fed by the WebSocket and,
 * where the socket is quiet or down, by HTTP checks of /history and /queue.
 *
 *   preparing ─→ submitting ─→ queued ─→ running ─→ finishing ─→ done
 *        │             │          │          │           ↑
 *        └─────────────┴──────────┴──────────┴───────────┘  (an end: error, cancel, lost)
 *
 * A followed prompt (`Client.follow`) starts in `queued` without being submitted. Every change
 * of phase goes through `enter()`. What the frames say of the run is kept by `JobProgress`, what
 * is asked over HTTP by `JobChecks`, the time limit by `startDeadline`: none of them moves a phase.
 *
 * Ground rules (see test/fixtures/traffic/README.md):
 * - the socket is open before POST /prompt and the prompt_id is chosen here, so every event,
 *   even one that arrives before the POST answer, can be matched;
 * - the run is over when `executing {node: null}` for our prompt arrives (history is stored by
 *   then), or when /history lists it;
 * - success or failure is decided from the whole run, never from a single `execution_error`;
 * - outputs come from /history, never from counting `executed` events.
 */
import { randomUUID } from 'node:crypto';
import { PyrosError } from '../errors.ts';
import { seedValues } from '../workflow/seed-values.ts';
import type { ComfyApi } from './api.ts';
import type { BinaryFrame } from './binary.ts';
import { timingsFromHistory } from './history-times.ts';
import { JobChecks } from './job-checks.ts';
import { startDeadline } from './job-deadline.ts';
import { InterruptedError, type JobTimeoutError } from './job-errors.ts';
import { PromptFrames } from './job-frames.ts';
import { JobProgress } from './job-progress.ts';
import type { JobContext, JobEvents, JobOptions, JobResult, PromptWarning, Submission } from './job-types.ts';
import { judgeRun } from './job-verdict.ts';
import { answerWasLost, lookUpPrompt, lostAnswerFailure, lostCause } from './lost-answer.ts';
import type { ServerMessage } from './messages.ts';
import { collectOutputs, mergeOutputs } from './outputs.ts';
import type { HistoryEntry } from './schemas-http.ts';
import { RelayingEmitter } from './relay.ts';
import type { ComfySocket, PromptWatcher } from './socket.ts';
import type { ApiWorkflow } from './types.ts';

export type { JobContext, JobEvents, JobOptions, JobResult, JobTimings, PromptWarning, QueuePosition, SeedValue, Submission } from './job-types.ts';

/** How a run ended, as far as following it goes: the history that holds its outputs, or why there is none. */
export type Ending = { history?: HistoryEntry; cancelledPending?: boolean; error?: Error };

type JobState =
  | { phase: 'preparing' }
  | { phase: 'submitting' }
  | { phase: 'queued' }
  | { phase: 'running'; startedAt: number }
  | { phase: 'finishing'; ending: Ending }
  | { phase: 'done' };

export type JobPhase = JobState['phase'];

const NEXT: Record<JobPhase, readonly JobPhase[]> = {
  preparing: ['submitting', 'queued', 'finishing'],
  submitting: ['queued', 'running', 'finishing'],
  queued: ['running', 'finishing'],
  running: ['finishing'],
  finishing: ['done'],
  done: [],
};

/** How long a prompt whose POST answer was lost is looked for before it counts as never queued. */
const LOST_ANSWER_CHECK_MS = 4_000;
/** Failures that happen before a request reaches the server: the prompt cannot have been queued. */
const NOT_DELIVERED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class Job extends RelayingEmitter<JobEvents> {
  readonly promptId: string;
  /** Settles when the job ends: the outputs on success, a PyrosError otherwise. */
  readonly result: Promise<JobResult>;

  private readonly context: JobContext;
  private readonly options: JobOptions & { quietCheckMs: number; historyWaitMs: number };
  private readonly follows: boolean;
  private state: JobState = { phase: 'preparing' };
  private graph: ApiWorkflow;
  private number: number | undefined;
  private submittedAt = 0;
  private startedAt: number | undefined;
  private announced = false;
  private warnings: PromptWarning[] = [];
  private cancelRequested = false;
  /** The server was asked to stop the prompt (once is enough). */
  private cancelSent = false;
  private timedOut: JobTimeoutError | undefined;
  private submissionState: Submission = 'pending';
  private readonly progress = new JobProgress(this);
  private readonly checks: JobChecks;
  private settle!: (ending: Ending) => void;
  private readonly ended: Promise<Ending>;
  private readonly cleanups: (() => void)[] = [];
  /** The prompt's frames on the socket, once it is open. */
  private frames: PromptFrames | undefined;

  /** @internal Use `Client.run` or `Client.follow`. */
  constructor(context: JobContext, workflow: ApiWorkflow | undefined, options: JobOptions & { follow?: boolean } = {}) {
    super();
    this.context = context;
    this.graph = workflow ?? {};
    this.follows = options.follow === true;
    this.promptId = options.promptId ?? randomUUID();
    this.options = { ...options, quietCheckMs: options.quietCheckMs ?? 5_000, historyWaitMs: options.historyWaitMs ?? 5_000 };
    this.checks = new JobChecks(
      this,
      {
        listed: (prompt, number) => {
          if (this.follows) this.adopt(prompt, number);
        },
        running: () => this.markStarted(),
        over: (ending) => this.end(ending),
        neverFound: () => this.follows && !this.announced,
      },
      context,
      this.options,
    );
    this.ended = new Promise<Ending>((resolve) => {
      this.settle = resolve;
    });
    this.result = this.run();
    // The caller may only listen to events; a rejection must not crash the process for that.
    this.result.catch(() => undefined);
    if (options.signal) {
      const onAbort = (): void => void this.cancel();
      if (options.signal.aborted) queueMicrotask(onAbort);
      else options.signal.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => options.signal?.removeEventListener('abort', onAbort));
    }
  }

  /** The prompt as submitted (uploads applied once they are done; for a followed prompt, once known). */
  get workflow(): ApiWorkflow {
    return this.graph;
  }

  get phase(): JobPhase {
    return this.state.phase;
  }

  /** Whether the server got the prompt; lets a caller decide whether resubmitting is safe. */
  get submission(): Submission {
    return this.submissionState;
  }

  /**
   * Stops this job and no other: deletes it from the queue when it is pending, interrupts it
   * when it is running. The result then rejects with a `cancelled` error.
   */
  async cancel(): Promise<void> {
    if (this.isOver()) return;
    this.cancelRequested = true;
    if (this.state.phase === 'preparing' || this.state.phase === 'submitting') return; // not submitted, or handled once the server has it
    if (this.cancelSent) return;
    this.cancelSent = true;
    try {
      await this.checks.stopOnServer();
    } catch (error) {
      // The server cannot be told (it is down or unreachable): stop following the job anyway.
      this.end({
        error: new PyrosError('cancelled', `Cancelled, but the server could not be told to stop prompt ${this.promptId}: ${(error as Error).message}`, {
          reason: 'server-not-told',
          fields: this.errorFields(),
          cause: error,
        }),
      });
    }
  }

  /**
   * Stops following the job without asking the server anything (it is gone or hung): the result
   * rejects with `error` at once. A Pool uses this to move the job to another server.
   */
  abandon(error: Error): void {
    this.end({ error });
  }

  // ── the state machine ────────────────────────────────────────────────────────────────

  private enter(next: JobState): void {
    const from = this.state.phase;
    if (from === next.phase) return;
    if (!NEXT[from].includes(next.phase)) throw new Error(`job ${this.promptId}: no transition from ${from} to ${next.phase}`);
    this.state = next;
    if (next.phase === 'running') this.emit('started');
  }

  private isOver(): boolean {
    return this.state.phase === 'finishing' || this.state.phase === 'done';
  }

  /** The one way a run ends: records why, once. */
  private end(ending: Ending): void {
    if (this.isOver()) return;
    this.enter({ phase: 'finishing', ending });
    this.settle(ending);
  }

  private markStarted(): void {
    if (this.state.phase !== 'submitting' && this.state.phase !== 'queued') return;
    this.startedAt = Date.now();
    this.enter({ phase: 'running', startedAt: this.startedAt });
  }

  // ── the run ──────────────────────────────────────────────────────────────────────────

  private async run(): Promise<JobResult> {
    try {
      const deadline = this.startDeadline();
      const inTime = <T>(step: Promise<T>): Promise<T> => (deadline ? Promise.race([step, deadline]) : step);
      await inTime(this.prepare());
      this.listen(this.context.socket);
      if (this.follows) {
        this.submissionState = 'accepted';
        this.enter({ phase: 'queued' });
        void this.checks.checkOverHttp({ found: true });
      } else {
        // Cancelled while its files were uploading: the server never sees it.
        if (this.cancelRequested) {
          this.submissionState = 'not-sent';
          throw new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true });
        }
        await inTime(this.submit());
      }
      this.checks.startWatchdog();
      if (this.cancelRequested) void this.cancel();
      const ending = await this.ended;
      if (this.timedOut) {
        // What the server had produced before it was stopped is the job's to keep.
        const stopped = ending.error || ending.cancelledPending ? undefined : (ending.history ?? (await this.checks.waitForHistory().catch(() => undefined)));
        mergeOutputs(this.timedOut.outputs, [...(stopped ? collectOutputs(stopped).outputs : []), ...this.progress.seenOutputs]);
        throw this.timedOut;
      }
      if (ending.error) throw ending.error;
      if (ending.cancelledPending) throw new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true });
      const history = ending.history ?? (await this.checks.waitForHistory());
      return this.conclude(history);
    } catch (error) {
      if (!this.isOver()) this.end({ error: error as Error });
      throw error;
    } finally {
      if (this.state.phase === 'finishing') this.enter({ phase: 'done' });
      for (const cleanup of this.cleanups.splice(0)) cleanup();
      this.frames?.stop();
      this.checks.stop();
    }
  }

  /** The overall limit, from the start (see job-deadline.ts). */
  private startDeadline(): Promise<never> | undefined {
    if (this.options.timeoutMs === undefined) return undefined;
    const deadline = startDeadline(this.options.timeoutMs, {
      accepted: () => this.submissionState === 'accepted',
      fields: () => this.errorFields(),
      expired: (error) => {
        this.timedOut = error;
        this.cancelRequested = true;
      },
      stopOnServer: () => this.checks.stopOnServer().then(() => this.ended),
      end: (error) => this.end({ error }),
      debug: (message) => void this.emit('debug', message),
    });
    this.cleanups.push(deadline.clear);
    return deadline.missed;
  }

  /** Opens the socket and uploads the files the prompt needs; nothing is submitted yet. */
  private async prepare(): Promise<void> {
    try {
      await this.context.ready();
      const uploads = this.options.uploads ?? [];
      if (uploads.length > 0) this.graph = structuredClone(this.graph);
      for (const upload of uploads) {
        const done = await this.context.uploads.upload(upload);
        const node = this.graph[upload.nodeId];
        if (node) node.inputs[upload.input] = done.value;
        this.emit('uploaded', done);
      }
    } catch (error) {
      this.submissionState = 'not-sent';
      throw error;
    }
  }

  private async submit(): Promise<void> {
    const { api, socket } = this.context;
    if (this.options.beforeSubmit) {
      try {
        await this.options.beforeSubmit({ promptId: this.promptId, server: api.endpoint.display });
      } catch (error) {
        this.submissionState = 'not-sent';
        throw error;
      }
    }
    this.enter({ phase: 'submitting' });
    this.submittedAt = Date.now();
    this.submissionState = 'unknown';
    let accepted: Awaited<ReturnType<ComfyApi['submitPrompt']>>;
    try {
      accepted = await api.submitPrompt({
        prompt: this.graph,
        client_id: socket.clientId,
        prompt_id: this.promptId,
        extra_data: { ...this.options.extraData, client_id: socket.clientId },
        ...(this.options.front ? { front: true } : {}),
        ...(this.options.outputs ? { partial_execution_targets: [...this.options.outputs] } : {}),
      });
    } catch (error) {
      const code = ((error as { cause?: NodeJS.ErrnoException }).cause?.code ?? '') as string;
      if (error instanceof PyrosError && error.kind === 'rejected') this.submissionState = 'rejected';
      else if (NOT_DELIVERED_CODES.has(code)) this.submissionState = 'not-sent';
      else if (answerWasLost(error)) {
        await this.settleLostAnswer(error);
        return;
      }
      throw error;
    }
    this.submissionState = 'accepted';
    // A server that ignores our id: follow the one it gave.
    if (accepted.prompt_id !== this.promptId) (this as { promptId: string }).promptId = accepted.prompt_id;
    this.number = accepted.number;
    this.announce(this.warningsOf(accepted.node_errors));
  }

  /**
   * The answer to POST /prompt was lost: the server is asked whether it has the prompt (by the id
   * chosen here). Found, the job follows it as if the answer had come; absent, it fails so that it
   * may be submitted again; when the server cannot be asked, it fails without any resubmission.
   */
  private async settleLostAnswer(error: unknown): Promise<void> {
    const lookup = await lookUpPrompt(this.context.api, this.promptId, {
      budgetMs: this.options.lostAnswerCheckMs ?? LOST_ANSWER_CHECK_MS,
      pause: (ms) => (ms > 0 ? this.checks.pause(ms) : Promise.resolve()),
      stopped: () => this.isOver(),
    });
    if (lookup !== 'found') {
      const failure = lostAnswerFailure(error, lookup, this.errorFields());
      if (failure.absent) this.submissionState = 'absent';
      throw failure.error;
    }
    this.emit('debug', `the answer to POST /prompt was lost (${lostCause(error)}); the server has prompt ${this.promptId}: following it`);
    this.submissionState = 'accepted';
    this.announce([]);
    void this.checks.checkOverHttp({ found: true });
  }

  /** Tells listeners the server has the prompt, then handles the frames that came before. */
  private announce(warnings: PromptWarning[]): void {
    if (this.announced) return;
    this.announced = true;
    this.warnings = warnings;
    this.frames?.narrow(this.promptId);
    // Queued first: a listener of `submitted` sees the job where the server has put it.
    if (this.state.phase === 'submitting') this.enter({ phase: 'queued' });
    this.emit('submitted', { promptId: this.promptId, number: this.number, warnings });
    this.frames?.release();
    if (this.state.phase === 'queued') void this.checks.refreshQueuePosition();
  }

  // ── the prompt's frames ──────────────────────────────────────────────────────────────

  /** Follows the prompt's frames (held until the server has it, unless it is followed by id), and the socket's drops. */
  private listen(socket: ComfySocket): void {
    const own: PromptWatcher = {
      message: (message) => this.onMessage(message),
      binary: (frame) => this.onBinary(frame),
      malformed: (detail) => void this.emit('debug', `skipped a malformed frame: ${detail}`),
    };
    this.frames = new PromptFrames(socket, this.follows ? this.promptId : undefined, own, !this.follows);
    this.checks.followSocket();
  }

  private isOurs(promptId: string | null | undefined): boolean {
    // Messages without a prompt id (older servers, reconnect) are ours only while we run.
    return promptId === this.promptId || ((promptId === undefined || promptId === null) && this.state.phase === 'running');
  }

  /** A message for the prompt: its phase first (`started` comes before the frame's own events), then its progress. */
  private onMessage(message: ServerMessage): void {
    if (this.isOver()) return;
    if (message.type === 'status') {
      if (this.state.phase === 'queued') void this.checks.refreshQueuePosition();
      return;
    }
    const data = message.data as { prompt_id?: string | null };
    if (!this.isOurs(data.prompt_id)) return;
    this.checks.heard();
    switch (message.type) {
      case 'executing':
        if (message.data.node === null) {
          if (message.data.prompt_id === this.promptId) this.end({});
          return;
        }
        this.markStarted();
        break;
      case 'execution_start':
      case 'execution_cached':
      case 'progress':
        this.markStarted();
        break;
      default:
        break;
    }
    this.progress.onMessage(message);
  }

  private onBinary(frame: BinaryFrame): void {
    if (this.state.phase !== 'running') return;
    if (frame.kind === 'preview') {
      const promptId = frame.metadata?.prompt_id;
      if (promptId !== undefined && promptId !== this.promptId) return;
      this.checks.heard();
    }
    this.progress.onBinary(frame);
  }

  private warningsOf(nodeErrors: Record<string, unknown>): PromptWarning[] {
    return Object.entries(nodeErrors).flatMap(([nodeId, value]) => {
      const errors = (value as { errors?: { message?: string; details?: string }[] })?.errors ?? [];
      const title = this.progress.ref(nodeId).title;
      const messages = errors.length > 0 ? errors.map((e) => [e.message, e.details].filter(Boolean).join(': ')) : ['output skipped'];
      return messages.map((message) => ({ nodeId, title, message }));
    });
  }

  /** A followed prompt, found: its workflow and number as the server has them; then `submitted`. */
  private adopt(prompt: Record<string, unknown> | undefined, number: number | undefined): void {
    if (this.announced) return;
    if (Object.keys(this.graph).length === 0 && prompt) this.graph = prompt as ApiWorkflow;
    this.number = number;
    this.announce([]);
  }

  private errorFields(): { server: string; promptId: string } {
    return { server: this.context.api.endpoint.display, promptId: this.promptId };
  }

  private conclude(history: HistoryEntry): JobResult {
    const { outputs, texts } = judgeRun(history, this.progress.observed(this.promptId, this.cancelRequested));
    const timings = this.follows ? timingsFromHistory(history, Date.now()) : { submittedAt: this.submittedAt, startedAt: this.startedAt, finishedAt: Date.now() };
    return {
      promptId: this.promptId,
      number: this.number,
      workflow: this.graph,
      seeds: seedValues(this.graph),
      outputs,
      texts,
      socketImages: this.progress.socketImages,
      cachedNodes: [...this.progress.cached],
      warnings: this.warnings,
      timings,
      history,
    };
  }
}

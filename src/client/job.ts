/**
 * One prompt from submission to its outputs: an explicit state machine fed by the WebSocket and,
 * where the socket is quiet or down, by HTTP checks of /history and /queue.
 *
 *   preparing ─→ submitting ─→ queued ─→ running ─→ finishing ─→ done
 *        │             │          │          │           ↑
 *        └─────────────┴──────────┴──────────┴───────────┘  (an end: error, cancel, lost)
 *
 * A followed prompt (`Client.follow`) starts in `queued` without being submitted. Every change
 * of phase goes through `enter()`.
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
import { isPyrosError, PyrosError, type ErrorFields } from '../errors.ts';
import { seedValues } from '../workflow/seed-values.ts';
import type { ComfyApi, QueueState } from './api.ts';
import type { BinaryFrame } from './binary.ts';
import { timingsFromHistory } from './history-times.ts';
import { InterruptedError, JobTimeoutError } from './job-errors.ts';
import type { JobContext, JobEvents, JobOptions, JobResult, PromptWarning, Submission } from './job-types.ts';
import { judgeRun } from './job-verdict.ts';
import { answerWasLost, lookUpPrompt } from './lost-answer.ts';
import type { MessageData, ServerMessage } from './messages.ts';
import { nodeRef } from './node-names.ts';
import { collectOutputs, mergeOutputs, outputsOfExecuted } from './outputs.ts';
import type { HistoryEntry } from './schemas-http.ts';
import { RelayingEmitter } from './relay.ts';
import type { ComfySocket, PromptWatcher } from './socket.ts';
import type { ApiWorkflow, NodeRef, OutputRef } from './types.ts';

export type { JobContext, JobEvents, JobOptions, JobResult, JobTimings, PromptWarning, QueuePosition, SeedValue, Submission } from './job-types.ts';

/** How a run ended, as far as following it goes: the history that holds its outputs, or why there is none. */
type Ending = { history?: HistoryEntry; cancelledPending?: boolean; error?: Error };

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

const WEBSOCKET_IMAGE_NODES = new Set(['SaveImageWebsocket']);
/** How long a submitted prompt may take to start before its place in the queue is looked up. */
const QUEUE_CHECK_DELAY_MS = 25;
/** How long a timed-out job waits for the server to confirm its cancellation. */
const CANCEL_GRACE_MS = 5_000;
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
  private currentNode: NodeRef | undefined;
  private lastOverall: { done: number; total: number } | undefined;
  private succeeded = false;
  private interruptedAt: NodeRef | undefined | null = null;
  private lastError: MessageData<'execution_error'> | undefined;
  private cancelRequested = false;
  /** The server was asked to stop the prompt (once is enough). */
  private cancelSent = false;
  /** The last place in the queue told (`queued` is emitted when it changes). */
  private lastPlace: string | undefined;
  private timedOut: JobTimeoutError | undefined;
  private submissionState: Submission = 'pending';
  private readonly cached = new Set<string>();
  private readonly finishedNodes = new Set<string>();
  private readonly seenOutputs: OutputRef[] = [];
  private readonly socketImages: JobResult['socketImages'] = [];
  private lastActivity = Date.now();
  private checking = false;
  private queueRefresh: Promise<void> | undefined;
  private settle!: (ending: Ending) => void;
  private readonly ended: Promise<Ending>;
  private readonly cleanups: (() => void)[] = [];
  /** Frames that arrived before the POST answer; handled right after `submitted`, in order. */
  private early: (() => void)[] | undefined = [];
  /** Narrows the frames followed to those of the prompt, once its id is confirmed. */
  private watchOwnPrompt: (() => void) | undefined;

  /** @internal Use `Client.run` or `Client.follow`. */
  constructor(context: JobContext, workflow: ApiWorkflow | undefined, options: JobOptions & { follow?: boolean } = {}) {
    super();
    this.context = context;
    this.graph = workflow ?? {};
    this.follows = options.follow === true;
    this.promptId = options.promptId ?? randomUUID();
    this.options = { ...options, quietCheckMs: options.quietCheckMs ?? 5_000, historyWaitMs: options.historyWaitMs ?? 5_000 };
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
      await this.cancelOnServer();
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
        this.early = undefined;
        this.enter({ phase: 'queued' });
        void this.checkOverHttp({ found: true });
      } else {
        // Cancelled while its files were uploading: the server never sees it.
        if (this.cancelRequested) {
          this.submissionState = 'not-sent';
          throw new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true });
        }
        await inTime(this.submit());
      }
      this.startWatchdog();
      if (this.cancelRequested) void this.cancel();
      const ending = await this.ended;
      if (this.timedOut) {
        // What the server had produced before it was stopped is the job's to keep.
        const stopped = ending.error || ending.cancelledPending ? undefined : (ending.history ?? (await this.waitForHistory().catch(() => undefined)));
        mergeOutputs(this.timedOut.outputs, [...(stopped ? collectOutputs(stopped).outputs : []), ...this.seenOutputs]);
        throw this.timedOut;
      }
      if (ending.error) throw ending.error;
      if (ending.cancelledPending) throw new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true });
      const history = ending.history ?? (await this.waitForHistory());
      return this.conclude(history);
    } catch (error) {
      if (!this.isOver()) this.end({ error: error as Error });
      throw error;
    } finally {
      if (this.state.phase === 'finishing') this.enter({ phase: 'done' });
      for (const cleanup of this.cleanups.splice(0)) cleanup();
    }
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
    const { api } = this.context;
    const lookup = await lookUpPrompt(api, this.promptId, {
      budgetMs: this.options.lostAnswerCheckMs ?? LOST_ANSWER_CHECK_MS,
      pause: (ms) => (ms > 0 ? this.pause(ms) : Promise.resolve()),
      stopped: () => this.isOver(),
    });
    const cause = (error as Error).message.replace(/\.$/, '');
    if (lookup === 'found') {
      this.emit('debug', `the answer to POST /prompt was lost (${cause}); the server has prompt ${this.promptId}: following it`);
      this.submissionState = 'accepted';
      this.announce([]);
      void this.checkOverHttp({ found: true });
      return;
    }
    const fromServer = isPyrosError(error) && error.kind !== 'connection';
    // A request that got no answer in time may still be in the server's hands: its absence proves nothing.
    const proven = lookup === 'absent' && !(isPyrosError(error) && error.kind === 'timeout');
    if (proven) {
      this.submissionState = 'absent';
      // An answer of the server's own (a 5xx) says best what went wrong; resubmitting is safe either way.
      if (fromServer) throw error;
      throw new PyrosError('lost', `${cause}; the server, asked since, does not have prompt ${this.promptId}: it was never queued.`, {
        reason: 'not-queued',
        fields: this.errorFields(),
        cause: error,
      });
    }
    if (fromServer) throw error;
    throw new PyrosError('connection', `${cause}; whether ${api.endpoint.display} queued prompt ${this.promptId} could not be checked since.`, {
      reason: 'submission-unknown',
      fields: this.errorFields(),
      cause: error,
    });
  }

  /** Tells listeners the server has the prompt, then handles the frames that came before. */
  private announce(warnings: PromptWarning[]): void {
    if (this.announced) return;
    this.announced = true;
    this.warnings = warnings;
    this.watchOwnPrompt?.();
    // Queued first: a listener of `submitted` sees the job where the server has put it.
    if (this.state.phase === 'submitting') this.enter({ phase: 'queued' });
    this.emit('submitted', { promptId: this.promptId, number: this.number, warnings });
    const early = this.early ?? [];
    this.early = undefined;
    for (const handle of early) handle();
    if (this.state.phase === 'queued') void this.refreshQueuePosition();
  }

  /**
   * Follows the frames of the prompt: every frame until the server has confirmed the prompt id
   * (a server may choose its own), then only those of the prompt and those that name none.
   */
  private listen(socket: ComfySocket): void {
    // Until the POST answers, frames wait so that events come in a sensible order (submitted first).
    const later = (handle: () => void): void => {
      if (this.early) this.early.push(handle);
      else handle();
    };
    const watcher: PromptWatcher = {
      message: (message) => later(() => this.onMessage(message)),
      binary: (frame) => later(() => this.onBinary(frame)),
      malformed: (detail) => void this.emit('debug', `skipped a malformed frame: ${detail}`),
    };
    let unwatch = socket.watch(this.follows ? this.promptId : undefined, watcher);
    this.watchOwnPrompt = () => {
      unwatch();
      unwatch = socket.watch(this.promptId, watcher);
    };
    const onReconnecting = (info: { attempt: number; delayMs: number; reason: string }): void => void this.emit('connection', { state: 'reconnecting', ...info });
    const onOpen = (info: { reconnect: boolean }): void => {
      if (!info.reconnect) return;
      this.emit('connection', { state: 'reconnected' });
      // Events sent while the socket was down are lost: catch up over HTTP.
      void this.checkOverHttp();
    };
    socket.on('reconnecting', onReconnecting);
    socket.on('open', onOpen);
    this.cleanups.push(() => {
      unwatch();
      socket.off('reconnecting', onReconnecting);
      socket.off('open', onOpen);
    });
  }

  private isOurs(promptId: string | null | undefined): boolean {
    // Messages without a prompt id (older servers, reconnect) are ours only while we run.
    return promptId === this.promptId || ((promptId === undefined || promptId === null) && this.state.phase === 'running');
  }

  private ref(nodeId: string, displayNodeId?: string | null, classType?: string | null): NodeRef {
    return nodeRef(this.graph, nodeId, displayNodeId, classType);
  }

  private onMessage(message: ServerMessage): void {
    if (this.isOver()) return;
    if (message.type === 'status') {
      if (this.state.phase === 'queued') void this.refreshQueuePosition();
      return;
    }
    const data = message.data as { prompt_id?: string | null };
    if (!this.isOurs(data.prompt_id)) return;
    this.lastActivity = Date.now();
    switch (message.type) {
      case 'execution_start':
        this.markStarted();
        return;
      case 'execution_cached':
        this.markStarted();
        for (const id of message.data.nodes) this.cached.add(id);
        if (message.data.nodes.length > 0) this.emit('cached', { nodes: message.data.nodes.map((id) => this.ref(id)) });
        this.emitOverall();
        return;
      case 'executing': {
        const { node, display_node: display, prompt_id: promptId } = message.data;
        if (node === null) {
          if (promptId === this.promptId) this.end({});
          return;
        }
        this.markStarted();
        if (this.currentNode) this.finishedNodes.add(this.currentNode.nodeId);
        this.currentNode = this.ref(node, display);
        // The count first, so that a listener of `node` sees how many nodes came before it.
        this.emitOverall();
        this.emit('node', this.currentNode);
        return;
      }
      case 'progress': {
        this.markStarted();
        const { node, value, max } = message.data;
        const ref = node ? (this.currentNode?.nodeId === node ? this.currentNode : this.ref(node)) : this.currentNode;
        if (ref) this.emit('progress', { node: ref, value, max });
        return;
      }
      case 'progress_state': {
        let changed = false;
        for (const [id, state] of Object.entries(message.data.nodes)) {
          if (state.state === 'finished' && !this.finishedNodes.has(id)) {
            this.finishedNodes.add(id);
            changed = true;
          }
        }
        if (changed) this.emitOverall();
        return;
      }
      case 'executed': {
        const { node, display_node: display, output } = message.data;
        if (output) {
          mergeOutputs(this.seenOutputs, outputsOfExecuted(node, output));
          this.emit('executed', { node: this.ref(node, display), output });
        }
        return;
      }
      case 'execution_success':
        this.succeeded = true;
        return;
      case 'execution_error':
        this.lastError = message.data;
        return;
      case 'execution_interrupted': {
        const { node_id: nodeId, node_type: nodeType } = message.data;
        this.interruptedAt = nodeId ? this.ref(nodeId, undefined, nodeType) : undefined;
        return;
      }
      default:
        return;
    }
  }

  private onBinary(frame: BinaryFrame): void {
    if (this.state.phase !== 'running') return;
    if (frame.kind === 'preview') {
      const meta = frame.metadata;
      if (meta?.prompt_id !== undefined && meta.prompt_id !== this.promptId) return;
      this.lastActivity = Date.now();
      const node = meta?.node_id ? this.ref(meta.node_id, meta.display_node_id) : this.currentNode;
      if (node?.classType && WEBSOCKET_IMAGE_NODES.has(node.classType)) {
        this.socketImages.push({ node, mime: frame.mime, image: Buffer.from(frame.image) });
        return;
      }
      this.emit('preview', { mime: frame.mime, image: frame.image, node });
    } else if (frame.kind === 'text') {
      // Text frames carry no prompt id and are broadcast: keep those of our own nodes only.
      if (!this.graph[frame.nodeId.split('.')[0] ?? '']) return;
      this.emit('text', { node: this.ref(frame.nodeId), text: frame.text });
    }
  }

  private emitOverall(): void {
    let total = 0;
    for (const _ in this.graph) total += 1;
    let done = 0;
    for (const id of this.cached) if (this.graph[id]) done += 1;
    for (const id of this.finishedNodes) if (this.graph[id] && !this.cached.has(id)) done += 1;
    done = Math.min(done, total);
    // A node's end is told twice (progress_state, then the next `executing`): one event per count.
    if (this.lastOverall?.done === done && this.lastOverall.total === total) return;
    this.lastOverall = { done, total };
    this.emit('overall', { done, total });
  }

  private warningsOf(nodeErrors: Record<string, unknown>): PromptWarning[] {
    return Object.entries(nodeErrors).flatMap(([nodeId, value]) => {
      const errors = (value as { errors?: { message?: string; details?: string }[] })?.errors ?? [];
      const title = this.ref(nodeId).title;
      const messages = errors.length > 0 ? errors.map((e) => [e.message, e.details].filter(Boolean).join(': ')) : ['output skipped'];
      return messages.map((message) => ({ nodeId, title, message }));
    });
  }

  // ── HTTP: queue position, cancellation, checks when the socket is quiet ────────────────

  /**
   * Asks /queue where the prompt stands, a moment later: a prompt that starts at once (the usual
   * case on an idle server) needs no position, and the request would only slow it down.
   */
  private async refreshQueuePosition(): Promise<void> {
    if (this.queueRefresh) return;
    this.queueRefresh = (async () => {
      try {
        await this.pause(QUEUE_CHECK_DELAY_MS);
        if (this.state.phase !== 'queued') return;
        this.applyQueue(await this.context.api.queue());
      } catch (error) {
        this.emit('debug', `queue check failed: ${(error as Error).message}`);
      } finally {
        this.queueRefresh = undefined;
      }
    })();
  }

  /** Resolves after `ms`, or at once when the job ends. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.cleanups.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Updates the state from /queue; returns whether the prompt is listed there. */
  private applyQueue(queue: QueueState): boolean {
    const running = queue.running.find((entry) => entry.promptId === this.promptId);
    const mine = running ?? queue.pending.find((entry) => entry.promptId === this.promptId);
    if (!mine) return false;
    if (this.follows) this.adopt(mine.prompt, mine.number);
    if (running) {
      this.markStarted();
      return true;
    }
    if (this.state.phase === 'queued') {
      const ahead = queue.pending.filter((entry) => entry.number < mine.number).length;
      const place = { position: ahead + 1, ahead: ahead + queue.running.length, pending: queue.pending.length, running: queue.running.length };
      // A quiet check that finds the queue as it was tells nothing new.
      const key = JSON.stringify(place);
      if (key !== this.lastPlace) this.emit('queued', place);
      this.lastPlace = key;
    }
    return true;
  }

  /** A followed prompt, found: its workflow and number as the server has them; then `submitted`. */
  private adopt(prompt: Record<string, unknown> | undefined, number: number | undefined): void {
    if (this.announced) return;
    if (Object.keys(this.graph).length === 0 && prompt) this.graph = prompt as ApiWorkflow;
    this.number = number;
    this.announce([]);
  }

  private async cancelOnServer(): Promise<void> {
    const { api } = this.context;
    const queue = await api.queue();
    if (queue.pending.some((entry) => entry.promptId === this.promptId)) {
      await api.deleteFromQueue([this.promptId]);
      const after = await api.queue();
      const stillThere = after.pending.some((e) => e.promptId === this.promptId) || after.running.some((e) => e.promptId === this.promptId);
      if (!stillThere) {
        this.end({ cancelledPending: true });
        return;
      }
    }
    if (queue.running.some((entry) => entry.promptId === this.promptId) || this.state.phase === 'running') {
      await api.interrupt(this.promptId);
    }
    // Whatever state it is in now, the next HTTP check or the end-of-run event settles it.
    void this.checkOverHttp();
  }

  /**
   * The overall limit, from the start: before the server has the prompt it ends the job at once;
   * afterwards it cancels the prompt on the server (briefly waiting for the run to stop there), then
   * ends the job with what the run had produced.
   */
  private startDeadline(): Promise<never> | undefined {
    const limit = this.options.timeoutMs;
    if (limit === undefined) return undefined;
    let fail!: (error: Error) => void;
    const deadline = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    deadline.catch(() => undefined);
    const timeout = setTimeout(() => {
      const accepted = this.submissionState === 'accepted';
      const error = new JobTimeoutError(
        accepted ? `The job did not finish within ${formatSeconds(limit)}; it was cancelled on the server.` : `The job did not finish within ${formatSeconds(limit)}: the server did not accept it in that time.`,
        { reason: accepted ? 'job' : 'job-not-accepted', fields: { ...this.errorFields(), limitMs: limit }, promptId: this.promptId },
      );
      this.timedOut = error;
      this.cancelRequested = true;
      if (!accepted) {
        fail(error);
        return;
      }
      // Tell the server before giving up (a process that exits right after would cut the request), and
      // let the run end there, so that what it had produced is known and kept; but not for long.
      const told = this.cancelOnServer().then(
        () => this.ended,
        (cause: Error) => this.emit('debug', `cancel after the timeout failed: ${cause.message}`),
      );
      const grace = new Promise((resolve) => setTimeout(resolve, CANCEL_GRACE_MS).unref());
      void Promise.race([told, grace]).then(() => this.end({ error }));
    }, limit);
    this.cleanups.push(() => clearTimeout(timeout));
    return deadline;
  }

  private startWatchdog(): void {
    const period = Math.max(50, Math.floor(this.options.quietCheckMs / 2));
    const timer = setInterval(() => {
      const quietFor = Date.now() - this.lastActivity;
      if (quietFor >= this.options.quietCheckMs || !this.context.socket.isOpen) void this.checkOverHttp();
    }, period);
    this.cleanups.push(() => clearInterval(timer));
  }

  /** Looks at /history and /queue: ends the job if the server says it is over, or no longer knows it. */
  private async checkOverHttp(options: { found?: boolean } = {}): Promise<void> {
    if (this.checking || this.isOver() || this.state.phase === 'preparing' || this.state.phase === 'submitting') return;
    this.checking = true;
    if (!options.found) this.emit('connection', { state: 'checking' });
    try {
      for (let look = 0; look < 2; look++) {
        // Between leaving the queue and entering the history a prompt is briefly in neither:
        // look once more a moment later before calling it lost.
        if (look > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, this.options.quietCheckMs)).unref());
        if (this.isOver()) return;
        const history = await this.context.api.history(this.promptId);
        if (history) {
          if (this.follows) this.adopt(history.prompt?.[2] as Record<string, unknown> | undefined, history.prompt?.[0] as number | undefined);
          this.end({ history });
          return;
        }
        if (this.applyQueue(await this.context.api.queue())) {
          this.lastActivity = Date.now();
          return;
        }
      }
      this.end({ error: this.notKnown() });
    } catch (error) {
      this.emit('debug', `state check failed: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  private notKnown(): PyrosError {
    if (this.follows && !this.announced) {
      return new PyrosError('lost', `The server at ${this.context.api.endpoint.display} knows no prompt ${this.promptId}: it is neither in the history nor in the queue.`, {
        reason: 'unknown',
        fields: this.errorFields(),
      });
    }
    return new PyrosError('lost', `The server no longer knows prompt ${this.promptId}: it is neither queued nor in the history (was the server restarted?).`, {
      reason: 'forgotten',
      fields: this.errorFields(),
    });
  }

  /** After the end-of-run event the history is stored; a short retry covers slow proxies. */
  private async waitForHistory(): Promise<HistoryEntry> {
    const deadline = Date.now() + this.options.historyWaitMs;
    let delay = 25;
    for (;;) {
      const history = await this.context.api.history(this.promptId);
      if (history) return history;
      if (Date.now() >= deadline) {
        throw new PyrosError('server', `The prompt ${this.promptId} finished, but /history did not list it within ${formatSeconds(this.options.historyWaitMs)}.`, {
          reason: 'history-missing',
          fields: { ...this.errorFields(), limitMs: this.options.historyWaitMs },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
  }

  private errorFields(): ErrorFields {
    return { server: this.context.api.endpoint.display, promptId: this.promptId };
  }

  private conclude(history: HistoryEntry): JobResult {
    const { outputs, texts } = judgeRun(history, {
      promptId: this.promptId,
      interruptedAt: this.interruptedAt,
      lastError: this.lastError,
      succeeded: this.succeeded,
      cancelRequested: this.cancelRequested,
      seenOutputs: this.seenOutputs,
      ref: (nodeId, classType) => this.ref(nodeId, undefined, classType),
    });
    const timings = this.follows ? timingsFromHistory(history, Date.now()) : { submittedAt: this.submittedAt, startedAt: this.startedAt, finishedAt: Date.now() };
    return {
      promptId: this.promptId,
      number: this.number,
      workflow: this.graph,
      seeds: seedValues(this.graph),
      outputs,
      texts,
      socketImages: this.socketImages,
      cachedNodes: [...this.cached],
      warnings: this.warnings,
      timings,
      history,
    };
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

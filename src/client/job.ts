/**
 * One prompt from submission to its outputs: a small state machine fed by the WebSocket and,
 * where the socket is quiet or down, by HTTP checks of /history and /queue.
 *
 * Ground rules (see test/fixtures/traffic/README.md):
 * - the socket is open before POST /prompt and the prompt_id is chosen here, so every event,
 *   even one that arrives before the POST answer, can be matched;
 * - the run is over when `executing {node: null}` for our prompt arrives (history is stored by
 *   then), or when /history lists it;
 * - success or failure is decided from the whole run, never from a single `execution_error`;
 * - outputs come from /history, never from counting `executed` events.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { PyrosError, type ErrorFields } from '../errors.ts';
import type { ComfyApi, QueueState } from './api.ts';
import type { BinaryFrame } from './binary.ts';
import { InterruptedError } from './job-errors.ts';
import type { JobContext, JobEvents, JobOptions, JobResult, PromptWarning, Submission } from './job-types.ts';
import { judgeRun } from './job-verdict.ts';
import type { MessageData, ServerMessage } from './messages.ts';
import { nodeRef } from './node-names.ts';
import { mergeOutputs, outputsOfExecuted } from './outputs.ts';
import type { HistoryEntry } from './schemas-http.ts';
import type { ComfySocket } from './socket.ts';
import type { ApiWorkflow, NodeRef, OutputRef } from './types.ts';

export type { JobContext, JobEvents, JobOptions, JobResult, PromptWarning, QueuePosition, Submission } from './job-types.ts';

type State = 'submitting' | 'queued' | 'running' | 'finishing' | 'done';

interface Finish {
  history?: HistoryEntry;
  cancelledPending?: boolean;
  error?: Error;
}

const WEBSOCKET_IMAGE_NODES = new Set(['SaveImageWebsocket']);
/** How long a submitted prompt may take to start before its place in the queue is looked up. */
const QUEUE_CHECK_DELAY_MS = 25;

/** How long a timed-out job waits for the server to confirm its cancellation. */
const CANCEL_GRACE_MS = 5_000;

/** Failures that happen before a request reaches the server: the prompt cannot have been queued. */
const NOT_DELIVERED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class Job extends EventEmitter<JobEvents> {
  readonly promptId: string;
  readonly workflow: ApiWorkflow;
  /** Settles when the job ends: the outputs on success, a PyrosError otherwise. */
  readonly result: Promise<JobResult>;

  private readonly context: JobContext;
  private readonly options: Required<Omit<JobOptions, 'promptId' | 'extraData' | 'timeoutMs'>> & Pick<JobOptions, 'extraData' | 'timeoutMs'>;
  private state: State = 'submitting';
  private number: number | undefined;
  private submittedAt = 0;
  private startedAt: number | undefined;
  private currentNode: NodeRef | undefined;
  private succeeded = false;
  private interruptedAt: NodeRef | undefined | null = null;
  private lastError: MessageData<'execution_error'> | undefined;
  private cancelRequested = false;
  private timedOut: PyrosError | undefined;
  private submissionState: Submission = 'pending';
  private readonly cached = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly seenOutputs: OutputRef[] = [];
  private readonly socketImages: JobResult['socketImages'] = [];
  private lastActivity = Date.now();
  private checking = false;
  private queueRefresh: Promise<void> | undefined;
  private finish!: (finish: Finish) => void;
  private readonly finished$: Promise<Finish>;
  private readonly cleanups: (() => void)[] = [];
  /** Frames that arrived before the POST answer; handled right after `submitted`, in order. */
  private early: (() => void)[] | undefined = [];

  constructor(context: JobContext, workflow: ApiWorkflow, options: JobOptions = {}) {
    super();
    this.context = context;
    this.workflow = workflow;
    this.promptId = options.promptId ?? randomUUID();
    this.options = {
      quietCheckMs: options.quietCheckMs ?? 5_000,
      historyWaitMs: options.historyWaitMs ?? 5_000,
      extraData: options.extraData,
      timeoutMs: options.timeoutMs,
    };
    let settle!: (finish: Finish) => void;
    this.finished$ = new Promise<Finish>((resolve) => {
      settle = resolve;
    });
    this.finish = (finish) => {
      if (this.state === 'done' || this.state === 'finishing') return;
      this.state = 'finishing';
      settle(finish);
    };
    this.result = this.run();
    // The caller may only listen to events; a rejection must not crash the process for that.
    this.result.catch(() => undefined);
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
    if (this.state === 'done' || this.state === 'finishing') return;
    this.cancelRequested = true;
    if (this.state === 'submitting') return; // handled as soon as the POST answers
    try {
      await this.cancelOnServer();
    } catch (error) {
      // The server cannot be told (it is down or unreachable): stop following the job anyway.
      this.finish({
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
    this.finish({ error });
  }

  private async cancelOnServer(): Promise<void> {
    const { api } = this.context;
    const queue = await api.queue();
    if (queue.pending.some((entry) => entry.promptId === this.promptId)) {
      await api.deleteFromQueue([this.promptId]);
      const after = await api.queue();
      const stillPending = after.pending.some((e) => e.promptId === this.promptId);
      if (!stillPending && !after.running.some((e) => e.promptId === this.promptId)) {
        this.finish({ cancelledPending: true });
        return;
      }
    }
    if (queue.running.some((entry) => entry.promptId === this.promptId) || this.state === 'running') {
      await api.interrupt(this.promptId);
    }
    // Whatever state it is in now, the next HTTP check or the end-of-run event settles it.
    void this.checkOverHttp();
  }

  private async run(): Promise<JobResult> {
    const { socket } = this.context;
    try {
      const deadline = this.startDeadline();
      try {
        await Promise.race([this.context.ready(), deadline]);
      } catch (error) {
        this.submissionState = 'not-sent';
        throw error;
      }
      this.listen(socket);
      this.submittedAt = Date.now();
      const accepted = await Promise.race([this.submit(), deadline]);
      if (accepted.prompt_id !== this.promptId) {
        // A server that ignores our id: follow the one it gave.
        (this as { promptId: string }).promptId = accepted.prompt_id;
      }
      this.number = accepted.number;
      const warnings = this.warningsOf(accepted.node_errors);
      this.emit('submitted', { promptId: this.promptId, number: this.number, warnings });
      this.state = 'queued';
      const early = this.early ?? [];
      this.early = undefined;
      for (const handle of early) handle();
      if (this.state === 'queued') void this.refreshQueuePosition();
      this.startWatchdog();
      if (this.cancelRequested) void this.cancel();
      const finish = await this.finished$;
      if (this.timedOut) throw this.timedOut;
      if (finish.error) throw finish.error;
      if (finish.cancelledPending) {
        throw new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true });
      }
      const history = finish.history ?? (await this.waitForHistory());
      return this.conclude(history, warnings);
    } finally {
      this.state = 'done';
      for (const cleanup of this.cleanups.splice(0)) cleanup();
    }
  }

  private async submit(): Promise<Awaited<ReturnType<ComfyApi['submitPrompt']>>> {
    const { api, socket } = this.context;
    this.submissionState = 'unknown';
    try {
      const accepted = await api.submitPrompt({
        prompt: this.workflow,
        client_id: socket.clientId,
        prompt_id: this.promptId,
        extra_data: { ...this.options.extraData, client_id: socket.clientId },
      });
      this.submissionState = 'accepted';
      return accepted;
    } catch (error) {
      const code = ((error as { cause?: NodeJS.ErrnoException }).cause?.code ?? '') as string;
      if (error instanceof PyrosError && error.kind === 'rejected') this.submissionState = 'rejected';
      else if (NOT_DELIVERED_CODES.has(code)) this.submissionState = 'not-sent';
      throw error;
    }
  }

  private listen(socket: ComfySocket): void {
    // Until the POST answers, frames wait so that events come in a sensible order (submitted first).
    const onMessage = (message: ServerMessage): void => {
      if (this.early) this.early.push(() => this.onMessage(message));
      else this.onMessage(message);
    };
    const onBinary = (frame: BinaryFrame): void => {
      if (this.early) this.early.push(() => this.onBinary(frame));
      else this.onBinary(frame);
    };
    const onMalformed = (detail: string): void => {
      this.emit('debug', `skipped a malformed frame: ${detail}`);
    };
    const onReconnecting = (info: { attempt: number; delayMs: number; reason: string }): void => {
      this.emit('connection', { state: 'reconnecting', ...info });
    };
    const onOpen = (info: { reconnect: boolean }): void => {
      if (!info.reconnect) return;
      this.emit('connection', { state: 'reconnected' });
      // Events sent while the socket was down are lost: catch up over HTTP.
      void this.checkOverHttp();
    };
    socket.on('message', onMessage);
    socket.on('binary', onBinary);
    socket.on('malformed', onMalformed);
    socket.on('reconnecting', onReconnecting);
    socket.on('open', onOpen);
    this.cleanups.push(() => {
      socket.off('message', onMessage);
      socket.off('binary', onBinary);
      socket.off('malformed', onMalformed);
      socket.off('reconnecting', onReconnecting);
      socket.off('open', onOpen);
    });
  }

  private isOurs(promptId: string | null | undefined): boolean {
    // Messages without a prompt id (older servers, reconnect) are ours only while we run.
    return promptId === this.promptId || ((promptId === undefined || promptId === null) && this.state === 'running');
  }

  private ref(nodeId: string, displayNodeId?: string | null, classType?: string | null): NodeRef {
    return nodeRef(this.workflow, nodeId, displayNodeId, classType);
  }

  private markStarted(): void {
    if (this.state === 'submitting' || this.state === 'queued') {
      this.state = 'running';
      this.startedAt ??= Date.now();
      this.emit('started');
    }
  }

  private onMessage(message: ServerMessage): void {
    if (this.state === 'done' || this.state === 'finishing') return;
    switch (message.type) {
      case 'status':
        if (this.state === 'queued') void this.refreshQueuePosition();
        return;
      case 'execution_start':
        if (!this.isOurs(message.data.prompt_id)) return;
        this.touch();
        this.markStarted();
        return;
      case 'execution_cached': {
        if (!this.isOurs(message.data.prompt_id)) return;
        this.touch();
        this.markStarted();
        for (const id of message.data.nodes) this.cached.add(id);
        if (message.data.nodes.length > 0) this.emit('cached', { nodes: message.data.nodes.map((id) => this.ref(id)) });
        this.emitOverall();
        return;
      }
      case 'executing': {
        const { node, display_node: display, prompt_id: promptId } = message.data;
        if (!this.isOurs(promptId)) return;
        this.touch();
        if (node === null) {
          if (promptId === this.promptId) this.finish({});
          return;
        }
        this.markStarted();
        if (this.currentNode) this.finished.add(this.currentNode.nodeId);
        this.currentNode = this.ref(node, display);
        // The count first, so that a listener of `node` sees how many nodes came before it.
        this.emitOverall();
        this.emit('node', this.currentNode);
        return;
      }
      case 'progress': {
        const { prompt_id: promptId, node, value, max } = message.data;
        if (!this.isOurs(promptId)) return;
        this.touch();
        this.markStarted();
        const ref = node ? (this.currentNode?.nodeId === node ? this.currentNode : this.ref(node)) : this.currentNode;
        if (ref) this.emit('progress', { node: ref, value, max });
        return;
      }
      case 'progress_state': {
        if (!this.isOurs(message.data.prompt_id)) return;
        this.touch();
        let changed = false;
        for (const [id, state] of Object.entries(message.data.nodes)) {
          if (state.state === 'finished' && !this.finished.has(id)) {
            this.finished.add(id);
            changed = true;
          }
        }
        if (changed) this.emitOverall();
        return;
      }
      case 'executed': {
        const { prompt_id: promptId, node, display_node: display, output } = message.data;
        if (!this.isOurs(promptId)) return;
        this.touch();
        const ref = this.ref(node, display);
        if (output) {
          mergeOutputs(this.seenOutputs, outputsOfExecuted(node, output));
          this.emit('executed', { node: ref, output });
        }
        return;
      }
      case 'execution_success':
        if (!this.isOurs(message.data.prompt_id)) return;
        this.touch();
        this.succeeded = true;
        return;
      case 'execution_error':
        if (!this.isOurs(message.data.prompt_id)) return;
        this.touch();
        this.lastError = message.data;
        return;
      case 'execution_interrupted': {
        if (!this.isOurs(message.data.prompt_id)) return;
        this.touch();
        const { node_id: nodeId, node_type: nodeType } = message.data;
        this.interruptedAt = nodeId ? this.ref(nodeId, undefined, nodeType) : undefined;
        return;
      }
      default:
        return;
    }
  }

  private onBinary(frame: BinaryFrame): void {
    if (this.state !== 'running') return;
    if (frame.kind === 'preview') {
      const meta = frame.metadata;
      if (meta?.prompt_id !== undefined && meta.prompt_id !== this.promptId) return;
      this.touch();
      const node = meta?.node_id ? this.ref(meta.node_id, meta.display_node_id) : this.currentNode;
      if (node?.classType && WEBSOCKET_IMAGE_NODES.has(node.classType)) {
        this.socketImages.push({ node, mime: frame.mime, image: Buffer.from(frame.image) });
        return;
      }
      this.emit('preview', { mime: frame.mime, image: frame.image, node });
    } else if (frame.kind === 'text') {
      // Text frames carry no prompt id and are broadcast: keep those of our own nodes only.
      if (!this.workflow[frame.nodeId.split('.')[0] ?? '']) return;
      this.emit('text', { node: this.ref(frame.nodeId), text: frame.text });
    }
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }

  private emitOverall(): void {
    const total = Object.keys(this.workflow).length;
    const done = new Set([...this.cached, ...this.finished].filter((id) => this.workflow[id])).size;
    this.emit('overall', { done: Math.min(done, total), total });
  }

  private warningsOf(nodeErrors: Record<string, unknown>): PromptWarning[] {
    return Object.entries(nodeErrors).flatMap(([nodeId, value]) => {
      const errors = (value as { errors?: { message?: string; details?: string }[] })?.errors ?? [];
      const title = this.ref(nodeId).title;
      const messages = errors.length > 0 ? errors.map((e) => [e.message, e.details].filter(Boolean).join(': ')) : ['output skipped'];
      return messages.map((message) => ({ nodeId, title, message }));
    });
  }

  /**
   * Asks /queue where the prompt stands, a moment later: a prompt that starts at once (the usual
   * case on an idle server) needs no position, and the request would only slow it down.
   */
  private async refreshQueuePosition(): Promise<void> {
    if (this.queueRefresh) return;
    this.queueRefresh = (async () => {
      try {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, QUEUE_CHECK_DELAY_MS);
          this.cleanups.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        if (this.state !== 'queued') return;
        const queue = await this.context.api.queue();
        this.applyQueue(queue);
      } catch (error) {
        this.emit('debug', `queue check failed: ${(error as Error).message}`);
      } finally {
        this.queueRefresh = undefined;
      }
    })();
  }

  /** Updates the state from /queue; returns whether the prompt is listed there. */
  private applyQueue(queue: QueueState): boolean {
    if (queue.running.some((entry) => entry.promptId === this.promptId)) {
      this.markStarted();
      return true;
    }
    const mine = queue.pending.find((entry) => entry.promptId === this.promptId);
    if (!mine) return false;
    if (this.state === 'queued') {
      const ahead = queue.pending.filter((entry) => entry.number < mine.number).length;
      this.emit('queued', { position: ahead + 1, ahead: ahead + queue.running.length, pending: queue.pending.length, running: queue.running.length });
    }
    return true;
  }

  /**
   * The overall limit, from the start: before the server has the prompt it ends the job at once;
   * afterwards it cancels the prompt on the server (briefly waiting for that), then ends the job.
   */
  private startDeadline(): Promise<never> {
    let fail!: (error: Error) => void;
    const deadline = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    deadline.catch(() => undefined);
    const limit = this.options.timeoutMs;
    if (limit === undefined) return deadline;
    const timeout = setTimeout(() => {
      const submitting = this.state === 'submitting';
      const error = new PyrosError(
        'timeout',
        submitting
          ? `The job did not finish within ${formatSeconds(limit)}: the server did not accept it in that time.`
          : `The job did not finish within ${formatSeconds(limit)}; it was cancelled on the server.`,
        { reason: submitting ? 'job-not-accepted' : 'job', fields: { ...this.errorFields(), limitMs: limit } },
      );
      this.timedOut = error;
      this.cancelRequested = true;
      if (submitting) {
        fail(error);
        return;
      }
      // Tell the server before giving up (a process that exits right after would cut the request), but not for long.
      const told = this.cancelOnServer().catch((cause: Error) => this.emit('debug', `cancel after the timeout failed: ${cause.message}`));
      const grace = new Promise((resolve) => setTimeout(resolve, CANCEL_GRACE_MS).unref());
      void Promise.race([told, grace]).then(() => this.finish({ error }));
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

  /** Looks at /history and /queue: finishes the job if the server says it is over. */
  private async checkOverHttp(): Promise<void> {
    if (this.checking || this.state === 'done' || this.state === 'finishing' || this.state === 'submitting') return;
    this.checking = true;
    this.emit('connection', { state: 'checking' });
    try {
      const history = await this.context.api.history(this.promptId);
      if (history) {
        this.finish({ history });
        return;
      }
      if (this.applyQueue(await this.context.api.queue())) {
        this.touch();
        return;
      }
      // Neither in the history nor queued: between leaving the queue and entering the history a
      // prompt is briefly in neither, so look once more a moment later before calling it lost.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, this.options.quietCheckMs)).unref());
      if (this.state !== 'queued' && this.state !== 'running') return;
      const again = await this.context.api.history(this.promptId);
      if (again) {
        this.finish({ history: again });
        return;
      }
      if (this.applyQueue(await this.context.api.queue())) {
        this.touch();
        return;
      }
      this.finish({
        error: new PyrosError('lost', `The server no longer knows prompt ${this.promptId}: it is neither queued nor in the history (was the server restarted?).`, {
          reason: 'forgotten',
          fields: this.errorFields(),
        }),
      });
    } catch (error) {
      this.emit('debug', `state check failed: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
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

  private conclude(history: HistoryEntry, warnings: PromptWarning[]): JobResult {
    const { outputs, texts } = judgeRun(history, {
      promptId: this.promptId,
      interruptedAt: this.interruptedAt,
      lastError: this.lastError,
      succeeded: this.succeeded,
      cancelRequested: this.cancelRequested,
      seenOutputs: this.seenOutputs,
      ref: (nodeId, classType) => this.ref(nodeId, undefined, classType),
    });
    return {
      promptId: this.promptId,
      number: this.number,
      outputs,
      texts,
      socketImages: this.socketImages,
      cachedNodes: [...this.cached],
      warnings,
      timings: { submittedAt: this.submittedAt, startedAt: this.startedAt, finishedAt: Date.now() },
      history,
    };
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

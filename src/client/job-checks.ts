/**
 * What a job asks the server over HTTP, where the socket does not tell it: the prompt's place in
 * the queue; whether the run is over, or forgotten, when the socket has been quiet or down (the
 * watchdog), or has just come back; the history once the run has ended; and stopping the prompt
 * when it is cancelled.
 *
 * The checks change no phase themselves: they report what they find, and the job moves.
 */
import { PyrosError } from '../errors.ts';
import type { ComfyApi, QueueState } from './api.ts';
import { formatSeconds } from './job-errors.ts';
import type { JobEvents } from './job-types.ts';
import type { Ending, JobPhase } from './job.ts';
import type { RelayingEmitter } from './relay.ts';
import type { HistoryEntry } from './schemas-http.ts';
import type { ComfySocket } from './socket.ts';

/** How long a submitted prompt may take to start before its place in the queue is looked up. */
const QUEUE_CHECK_DELAY_MS = 25;

/** The job checked: which prompt, where it stands, and its events. */
export interface CheckedJob {
  readonly promptId: string;
  readonly phase: JobPhase;
  emit: RelayingEmitter<JobEvents>['emit'];
}

/** What the job does with what the checks find. */
export interface CheckFindings {
  /** The server lists the prompt, with the workflow and number it has for it. */
  listed(prompt: Record<string, unknown> | undefined, number: number | undefined): void;
  /** The server runs the prompt. */
  running(): void;
  /** The run is over: /history lists it, the server no longer knows it, or it was deleted from the queue. */
  over(ending: Ending): void;
  /** Whether the job follows a prompt, by its id, that the server was never seen to have. */
  neverFound(): boolean;
}

export class JobChecks {
  private readonly job: CheckedJob;
  private readonly findings: CheckFindings;
  private readonly api: ComfyApi;
  private readonly socket: ComfySocket;
  private readonly quietCheckMs: number;
  private readonly historyWaitMs: number;
  private lastActivity = Date.now();
  private checking = false;
  private queueRefresh: Promise<void> | undefined;
  /** The last place in the queue told (`queued` is emitted when it changes). */
  private lastPlace: string | undefined;
  /** What ends with the job: the watchdog, the pauses under way. */
  private readonly stops: (() => void)[] = [];

  /** The socket dropped; it tries again. */
  private readonly onReconnecting = (info: { attempt: number; delayMs: number; reason: string }): void => void this.job.emit('connection', { state: 'reconnecting', ...info });
  /** The socket is open again. */
  private readonly onOpen = (info: { reconnect: boolean }): void => {
    if (!info.reconnect) return;
    this.job.emit('connection', { state: 'reconnected' });
    // Events sent while the socket was down are lost: catch up over HTTP.
    void this.checkOverHttp();
  };

  constructor(
    job: CheckedJob,
    findings: CheckFindings,
    context: { api: ComfyApi; socket: ComfySocket },
    options: { quietCheckMs: number; historyWaitMs: number },
  ) {
    this.job = job;
    this.findings = findings;
    this.api = context.api;
    this.socket = context.socket;
    this.quietCheckMs = options.quietCheckMs;
    this.historyWaitMs = options.historyWaitMs;
  }

  /** Something of the prompt's came over the socket: it is not quiet. */
  heard(): void {
    this.lastActivity = Date.now();
  }

  /** Tells the socket's drops and returns, until the job ends. */
  followSocket(): void {
    this.socket.on('reconnecting', this.onReconnecting);
    this.socket.on('open', this.onOpen);
  }

  /** Checks over HTTP whenever nothing came for `quietCheckMs`, or the socket is down. */
  startWatchdog(): void {
    const period = Math.max(50, Math.floor(this.quietCheckMs / 2));
    const timer = setInterval(() => {
      const quietFor = Date.now() - this.lastActivity;
      if (quietFor >= this.quietCheckMs || !this.socket.isOpen) void this.checkOverHttp();
    }, period);
    this.stops.push(() => clearInterval(timer));
  }

  /** The job ended: its timers and listeners stop, and pauses under way end at once. */
  stop(): void {
    this.socket.off('reconnecting', this.onReconnecting);
    this.socket.off('open', this.onOpen);
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Resolves after `ms`, or at once when the job ends. */
  pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stops.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Asks /queue where the prompt stands, a moment later: a prompt that starts at once (the usual
   * case on an idle server) needs no position, and the request would only slow it down.
   */
  async refreshQueuePosition(): Promise<void> {
    if (this.queueRefresh) return;
    this.queueRefresh = (async () => {
      try {
        await this.pause(QUEUE_CHECK_DELAY_MS);
        if (this.job.phase !== 'queued') return;
        this.applyQueue(await this.api.queueShared());
      } catch (error) {
        this.job.emit('debug', `queue check failed: ${(error as Error).message}`);
      } finally {
        this.queueRefresh = undefined;
      }
    })();
  }

  /** Looks at /history and /queue: ends the job if the server says it is over, or no longer knows it. */
  async checkOverHttp(options: { found?: boolean } = {}): Promise<void> {
    if (this.checking || this.isOver() || this.job.phase === 'preparing' || this.job.phase === 'submitting') return;
    this.checking = true;
    if (!options.found) this.job.emit('connection', { state: 'checking' });
    try {
      for (let look = 0; look < 2; look++) {
        // Between leaving the queue and entering the history a prompt is briefly in neither:
        // look once more a moment later before calling it lost.
        if (look > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, this.quietCheckMs)).unref());
        if (this.isOver()) return;
        const history = await this.api.history(this.job.promptId);
        if (history) {
          this.findings.listed(history.prompt?.[2] as Record<string, unknown> | undefined, history.prompt?.[0] as number | undefined);
          this.findings.over({ history });
          return;
        }
        if (this.applyQueue(await this.api.queue())) {
          this.lastActivity = Date.now();
          return;
        }
      }
      this.findings.over({ error: this.notKnown() });
    } catch (error) {
      this.job.emit('debug', `state check failed: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  /** After the end-of-run event the history is stored; a short retry covers slow proxies. */
  async waitForHistory(): Promise<HistoryEntry> {
    const deadline = Date.now() + this.historyWaitMs;
    let delay = 25;
    for (;;) {
      const history = await this.api.history(this.job.promptId);
      if (history) return history;
      if (Date.now() >= deadline) {
        throw new PyrosError('server', `The prompt ${this.job.promptId} finished, but /history did not list it within ${formatSeconds(this.historyWaitMs)}.`, {
          reason: 'history-missing',
          fields: { ...this.errorFields(), limitMs: this.historyWaitMs },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 500);
    }
  }

  /** Deletes the prompt from the queue while it is pending, interrupts it while it runs; then checks where it stands. */
  async stopOnServer(): Promise<void> {
    const { api } = this;
    const queue = await api.queue();
    if (queue.pending.some((entry) => entry.promptId === this.job.promptId)) {
      await api.deleteFromQueue([this.job.promptId]);
      const after = await api.queue();
      const stillThere = after.pending.some((e) => e.promptId === this.job.promptId) || after.running.some((e) => e.promptId === this.job.promptId);
      if (!stillThere) {
        this.findings.over({ cancelledPending: true });
        return;
      }
    }
    if (queue.running.some((entry) => entry.promptId === this.job.promptId) || this.job.phase === 'running') {
      await api.interrupt(this.job.promptId);
    }
    // Whatever state it is in now, the next HTTP check or the end-of-run event settles it.
    void this.checkOverHttp();
  }

  /** Updates the state from /queue; returns whether the prompt is listed there. */
  private applyQueue(queue: QueueState): boolean {
    const promptId = this.job.promptId;
    const running = queue.running.find((entry) => entry.promptId === promptId);
    const mine = running ?? queue.pending.find((entry) => entry.promptId === promptId);
    if (!mine) return false;
    this.findings.listed(mine.prompt, mine.number);
    if (running) {
      this.findings.running();
      return true;
    }
    if (this.job.phase === 'queued') {
      const ahead = queue.pending.filter((entry) => entry.number < mine.number).length;
      const place = { position: ahead + 1, ahead: ahead + queue.running.length, pending: queue.pending.length, running: queue.running.length };
      // A quiet check that finds the queue as it was tells nothing new.
      const key = JSON.stringify(place);
      if (key !== this.lastPlace) this.job.emit('queued', place);
      this.lastPlace = key;
    }
    return true;
  }

  private notKnown(): PyrosError {
    if (this.findings.neverFound()) {
      return new PyrosError('lost', `The server at ${this.api.endpoint.display} knows no prompt ${this.job.promptId}: it is neither in the history nor in the queue.`, {
        reason: 'unknown',
        fields: this.errorFields(),
      });
    }
    return new PyrosError('lost', `The server no longer knows prompt ${this.job.promptId}: it is neither queued nor in the history (was the server restarted?).`, {
      reason: 'forgotten',
      fields: this.errorFields(),
    });
  }

  private isOver(): boolean {
    return this.job.phase === 'finishing' || this.job.phase === 'done';
  }

  private errorFields(): { server: string; promptId: string } {
    return { server: this.api.endpoint.display, promptId: this.job.promptId };
  }
}

/**
 * A pool of ComfyUI servers behind one job API. `pool.run(workflow)` returns a `PoolJob` with the
 * same events and result as a `Job`; the pool decides where it runs and moves it when a server
 * fails. No terminal code here; everything observable is an event.
 *
 * - Dispatch: jobs wait in the pool until a live server has fewer than `depth` jobs ahead of a
 *   new one (the larger of what this pool sent it and what its `status` frames and `/queue` say,
 *   other users' prompts included); the server with the fewest ahead gets it. A server that
 *   joins or comes back takes waiting jobs at once.
 * - Failure: when a server's socket drops and it does not answer over HTTP either, it is marked
 *   down and every job on it (queued or running) is abandoned there and submitted again
 *   elsewhere, under a new prompt id: outputs a dead run may have listed are never taken as the
 *   job's result, which only ever comes from the history of a run that finished.
 * - Recovery: a down server is probed with jittered exponential backoff; when it answers it
 *   rejoins, and the prompts abandoned there are deleted from its queue (or interrupted). One
 *   that finished there anyway is reported with a `duplicate` event.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { PyrosError, isPyrosError } from '../errors.ts';
import { Client, type ClientOptions } from './client.ts';
import { InterruptedError } from './job-errors.ts';
import type { Job, JobEvents, JobOptions, JobResult } from './job.ts';
import type { ServerMessage } from './messages.ts';
import type { ApiWorkflow } from './types.ts';

export interface PoolOptions extends Omit<ClientOptions, 'server' | 'clientId'> {
  /** Server URLs, or full client options per server. */
  servers: readonly (string | (ClientOptions & { server: string }))[];
  /** A server takes another job while fewer than this many are ahead of it (default 2: one running, one waiting). */
  depth?: number;
  /** Time allowed to a health probe (socket open + GET /queue), default 3 000 ms. */
  probeTimeoutMs?: number;
  /** First and largest delay between probes of a down server (default 500 ms and 15 s, jittered). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Waiting jobs fail when no server has answered for this long (default 60 s; at once if none ever answered). */
  unavailableMs?: number;
  /** Servers a job may be tried on before it fails (default 5). */
  maxAttempts?: number;
  /** Passed to every job (see JobOptions). */
  quietCheckMs?: number;
  historyWaitMs?: number;
}

export type ServerState = 'connecting' | 'up' | 'down' | 'closed';

export interface PoolServerInfo {
  /** 0-based position in the pool. */
  index: number;
  /** The server's address as shown to people (no credentials). */
  server: string;
  state: ServerState;
  /** Jobs of this pool on it (submitted, not finished). */
  jobs: number;
  /** Prompts the server reports queued or running (anyone's). */
  remaining: number;
  /** Jobs of this pool it finished (successfully or not). */
  finished: number;
  /** Why it is down. */
  reason?: string;
  /** When it is down: milliseconds until the next probe. */
  retryInMs?: number;
}

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

export type PoolEvents = {
  /** A server changed state (or its load changed). */
  server: [info: PoolServerInfo];
  dispatched: [info: { job: PoolJob; server: string; promptId: string; attempt: number }];
  moved: [info: { job: PoolJob; from: string; promptId: string; reason: string }];
  /** A prompt abandoned on a server that failed finished there anyway (the job ran twice). */
  duplicate: [info: { job: PoolJob | undefined; server: string; promptId: string }];
  debug: [message: string];
};

const FORWARDED: readonly (keyof JobEvents)[] = ['submitted', 'queued', 'started', 'cached', 'node', 'progress', 'overall', 'preview', 'executed', 'text', 'connection', 'debug'];

/**
 * Failures that say something about the server rather than the workflow: try elsewhere. A 5xx
 * is not one of them (the prompt may have run), nor the job's own time limit.
 */
function isServerFailure(error: unknown): boolean {
  if (!isPyrosError(error)) return false;
  if (error.kind === 'timeout') return error.reason === 'request';
  return error.kind === 'connection' || error.kind === 'lost';
}

/** One job of a pool: the events of whichever server runs it, and one result. */
export class PoolJob extends EventEmitter<PoolJobEvents> {
  /** Order of submission to the pool (0-based). */
  readonly index: number;
  readonly workflow: ApiWorkflow;
  readonly options: JobOptions;
  readonly result: Promise<PoolJobResult>;
  readonly attempts: PoolAttempt[] = [];
  /** @internal */ attempt: { job: Job; member: Member; detach: () => void } | undefined;
  /** @internal */ settled = false;
  private nextPromptId: string;
  private resolve!: (result: PoolJobResult) => void;
  private reject!: (error: unknown) => void;
  private readonly pool: Pool;

  /** @internal */
  constructor(pool: Pool, index: number, workflow: ApiWorkflow, options: JobOptions) {
    super();
    this.pool = pool;
    this.index = index;
    this.workflow = workflow;
    this.options = options;
    this.nextPromptId = options.promptId ?? randomUUID();
    this.result = new Promise<PoolJobResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.result.catch(() => undefined);
  }

  /** The prompt id of the current (or next) submission; it changes when the job moves. */
  get promptId(): string {
    return this.attempt?.job.promptId ?? this.nextPromptId;
  }

  /** The server it runs on, or ran on last. */
  get server(): string | undefined {
    return this.attempts.at(-1)?.server;
  }

  /** Removes it from the pool's queue, or cancels it on its server; the result rejects with `cancelled`. */
  async cancel(): Promise<void> {
    if (this.settled) return;
    if (this.attempt) {
      await this.attempt.job.cancel();
      return;
    }
    this.pool.forget(this);
    this.fail(new InterruptedError({ promptId: this.promptId, outputs: [], byUser: true }));
  }

  /** @internal */
  takePromptId(): string {
    const id = this.nextPromptId;
    this.nextPromptId = randomUUID();
    return id;
  }

  /** @internal */
  succeed(result: PoolJobResult): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(result);
  }

  /** @internal */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}

/** One server of the pool. */
class Member {
  readonly index: number;
  readonly client: Client;
  state: ServerState = 'connecting';
  readonly jobs = new Set<PoolJob>();
  remaining = 0;
  finished = 0;
  everUp = false;
  failedProbes = 0;
  reason: string | undefined;
  retryAt: number | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  probing = false;
  /** Prompt ids given up on while the server was unreachable, with their jobs. */
  readonly abandoned = new Map<string, PoolJob>();
  readonly cleanups: (() => void)[] = [];

  constructor(index: number, client: Client) {
    this.index = index;
    this.client = client;
  }

  get display(): string {
    return this.client.endpoint.display;
  }

  /** Jobs ahead of a new one. */
  get load(): number {
    return Math.max(this.jobs.size, this.remaining);
  }

  info(): PoolServerInfo {
    const info: PoolServerInfo = { index: this.index, server: this.display, state: this.state, jobs: this.jobs.size, remaining: this.remaining, finished: this.finished };
    if (this.reason !== undefined && this.state === 'down') info.reason = this.reason;
    if (this.retryAt !== undefined && this.state === 'down') info.retryInMs = Math.max(0, this.retryAt - Date.now());
    return info;
  }
}

export class Pool extends EventEmitter<PoolEvents> {
  private readonly options: PoolOptions;
  private readonly members: Member[] = [];
  private readonly waiting: PoolJob[] = [];
  private counter = 0;
  private started = false;
  private closed = false;
  private unavailableTimer: NodeJS.Timeout | undefined;

  constructor(options: PoolOptions) {
    super();
    this.options = options;
    if (options.servers.length === 0) throw new PyrosError('usage', 'A pool needs at least one server.', { reason: 'pool-empty' });
    for (const server of options.servers) this.addMember(server);
  }

  private get depth(): number {
    return Math.max(1, this.options.depth ?? 2);
  }

  /** Adds a server; it takes waiting jobs as soon as it answers. Returns its display address. */
  add(server: string | (ClientOptions & { server: string })): string {
    const member = this.addMember(server);
    if (this.started) void this.probe(member);
    return member.display;
  }

  private addMember(server: string | (ClientOptions & { server: string })): Member {
    const { servers: _servers, depth: _depth, probeTimeoutMs: _probe, retryBaseMs: _base, retryMaxMs: _max, unavailableMs: _unavailable, maxAttempts: _attempts, quietCheckMs: _quiet, historyWaitMs: _history, ...common } = this.options;
    const own = typeof server === 'string' ? { server } : server;
    const client = new Client({ pingIntervalMs: 5_000, connectTimeoutMs: this.probeTimeoutMs, ...common, ...own });
    const member = new Member(this.members.length, client);
    this.members.push(member);
    this.watch(member);
    return member;
  }

  private get probeTimeoutMs(): number {
    return this.options.probeTimeoutMs ?? 3_000;
  }

  /** The servers and what the pool knows of them. */
  servers(): PoolServerInfo[] {
    return this.members.map((member) => member.info());
  }

  /** The client of a server of the pool (by display address), e.g. to download outputs. */
  clientOf(server: string): Client | undefined {
    return this.members.find((member) => member.display === server)?.client;
  }

  /** Queues a workflow; it is sent to a server as soon as one has room. */
  run(workflow: ApiWorkflow, options: JobOptions = {}): PoolJob {
    if (this.closed) throw new PyrosError('usage', 'This pool is closed.', { reason: 'pool-closed' });
    const job = new PoolJob(this, this.counter++, workflow, options);
    this.enqueue(job);
    this.start();
    this.dispatch();
    return job;
  }

  /**
   * Closes every connection. Jobs that have not finished fail with a `cancelled` error (the
   * pool stops following them; prompts already on a server are left to run there).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.unavailableTimer) clearTimeout(this.unavailableTimer);
    const closed = (job: PoolJob): PyrosError =>
      new PyrosError('cancelled', `The pool was closed before job ${job.index + 1} finished (prompt ${job.promptId}).`, {
        reason: 'pool-closed',
        fields: { promptId: job.promptId, ...(job.server ? { server: job.server } : {}) },
      });
    for (const job of this.waiting.splice(0)) job.fail(closed(job));
    for (const member of this.members) {
      for (const job of [...member.jobs]) {
        const error = closed(job);
        job.attempt?.detach();
        job.attempt?.job.abandon(error);
        job.attempt = undefined;
        job.fail(error);
      }
      member.jobs.clear();
      if (member.retryTimer) clearTimeout(member.retryTimer);
      for (const cleanup of member.cleanups.splice(0)) cleanup();
      member.state = 'closed';
      member.client.close();
    }
  }

  /** @internal */
  forget(job: PoolJob): void {
    const at = this.waiting.indexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  private enqueue(job: PoolJob): void {
    // Jobs keep their order: one moved off a failed server goes before the ones that came after it.
    let at = this.waiting.length;
    while (at > 0 && (this.waiting[at - 1]?.index ?? 0) > job.index) at--;
    this.waiting.splice(at, 0, job);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    for (const member of this.members) void this.probe(member);
  }

  private changed(member: Member): void {
    this.emit('server', member.info());
  }

  private watch(member: Member): void {
    const socket = member.client.socket;
    const onMessage = (message: ServerMessage): void => {
      if (message.type !== 'status') return;
      const remaining = message.data.status.exec_info.queue_remaining;
      if (remaining === member.remaining) return;
      member.remaining = remaining;
      this.changed(member);
      this.dispatch();
    };
    const onReconnecting = (info: { reason: string }): void => {
      if (member.state === 'up') void this.check(member, info.reason);
    };
    socket.on('message', onMessage);
    socket.on('reconnecting', onReconnecting);
    member.cleanups.push(() => {
      socket.off('message', onMessage);
      socket.off('reconnecting', onReconnecting);
    });
  }

  /** Connects (socket and GET /queue) within the probe timeout; up on success, down otherwise. */
  private async probe(member: Member): Promise<void> {
    if (this.closed || member.probing || member.state === 'up') return;
    member.probing = true;
    member.retryTimer = undefined;
    member.retryAt = undefined;
    try {
      await withTimeout(member.client.connect(), this.probeTimeoutMs, `the WebSocket to ${member.display} did not open within ${this.probeTimeoutMs} ms`);
      const queue = await member.client.api.queue(AbortSignal.timeout(this.probeTimeoutMs));
      if (this.closed) return;
      member.remaining = queue.running.length + queue.pending.length;
      await this.cleanUpAbandoned(member, queue);
      member.state = 'up';
      member.everUp = true;
      member.failedProbes = 0;
      member.reason = undefined;
      this.changed(member);
      this.dispatch();
    } catch (error) {
      if (this.closed) return;
      this.down(member, describe(error));
    } finally {
      member.probing = false;
    }
  }

  /** The socket dropped: still answering over HTTP means a blip (jobs catch up themselves). */
  private async check(member: Member, reason: string): Promise<void> {
    try {
      const queue = await member.client.api.queue(AbortSignal.timeout(this.probeTimeoutMs));
      member.remaining = queue.running.length + queue.pending.length;
    } catch (error) {
      if (member.state === 'up') this.down(member, `${reason}, then ${describe(error)}`);
    }
  }

  /** Marks a server down, moves its jobs, and schedules the next probe. */
  private down(member: Member, reason: string): void {
    if (this.closed) return;
    const wasUp = member.state === 'up';
    member.state = 'down';
    member.reason = reason;
    member.failedProbes += 1;
    // The pool probes it from now on; the socket's own reconnection would only compete.
    member.client.socket.close();
    for (const job of [...member.jobs]) this.move(job, member, `server down: ${reason}`);
    member.remaining = 0;
    const base = this.options.retryBaseMs ?? 500;
    const max = this.options.retryMaxMs ?? 15_000;
    const ceiling = Math.min(max, base * 2 ** Math.min(20, member.failedProbes - 1));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    member.retryAt = Date.now() + delay;
    member.retryTimer = setTimeout(() => void this.probe(member), delay);
    if (wasUp) this.emit('debug', `${member.display} is down (${reason}); ${member.jobs.size} job(s) moved`);
    this.changed(member);
    this.watchAvailability();
    this.dispatch();
  }

  /** Takes a job off a failed server and puts it back in the queue. */
  private move(job: PoolJob, member: Member, reason: string): void {
    const attempt = job.attempt;
    if (!attempt || attempt.member !== member) return;
    const promptId = attempt.job.promptId;
    attempt.detach();
    job.attempt = undefined;
    member.jobs.delete(job);
    member.abandoned.set(promptId, job);
    const record = job.attempts.at(-1);
    if (record) {
      record.outcome = 'moved';
      record.reason = reason;
    }
    attempt.job.abandon(new PyrosError('lost', reason, { reason: 'moved', fields: { server: member.display, promptId } }));
    if (job.attempts.length >= (this.options.maxAttempts ?? 5)) {
      job.fail(
        new PyrosError('lost', `The job was tried on ${job.attempts.length} servers and none finished it; last: ${reason}.`, {
          reason: 'moved-too-often',
          fields: { server: member.display, promptId, count: job.attempts.length },
        }),
      );
      return;
    }
    job.emit('moved', { from: member.display, promptId, reason });
    this.emit('moved', { job, from: member.display, promptId, reason });
    this.enqueue(job);
  }

  /** A rejoining server may still hold prompts the pool gave up on: delete or interrupt them. */
  private async cleanUpAbandoned(member: Member, queue: Awaited<ReturnType<Client['api']['queue']>>): Promise<void> {
    if (member.abandoned.size === 0) return;
    const api = member.client.api;
    const pending = queue.pending.filter((entry) => member.abandoned.has(entry.promptId)).map((entry) => entry.promptId);
    if (pending.length > 0) await api.deleteFromQueue(pending).catch(() => undefined);
    for (const entry of queue.running) {
      if (member.abandoned.has(entry.promptId)) await api.interrupt(entry.promptId).catch(() => undefined);
    }
    for (const [promptId, job] of member.abandoned) {
      if (pending.includes(promptId) || queue.running.some((entry) => entry.promptId === promptId)) continue;
      const history = await api.history(promptId).catch(() => undefined);
      if (history?.status?.status_str === 'success') this.emit('duplicate', { job, server: member.display, promptId });
    }
    member.abandoned.clear();
  }

  /** With jobs waiting and no server up: fail them after `unavailableMs` (at once if none ever answered). */
  private watchAvailability(): void {
    if (this.waiting.length === 0 || this.members.some((member) => member.state === 'up')) {
      if (this.unavailableTimer) clearTimeout(this.unavailableTimer);
      this.unavailableTimer = undefined;
      return;
    }
    const neverUp = this.members.every((member) => !member.everUp && member.state === 'down');
    if (neverUp) {
      this.failWaiting();
      return;
    }
    this.unavailableTimer ??= setTimeout(() => {
      this.unavailableTimer = undefined;
      if (!this.members.some((member) => member.state === 'up')) this.failWaiting();
    }, this.options.unavailableMs ?? 60_000);
  }

  private failWaiting(): void {
    const servers = this.members.map((member) => ({ server: member.display, reason: member.reason ?? member.state }));
    const reasons = servers.map(({ server, reason }) => `${server}: ${reason}`);
    const single = this.members.length === 1;
    const error = new PyrosError(
      'connection',
      single ? `Cannot reach ComfyUI at ${reasons[0]}` : `No server of the pool is reachable (${reasons.join('; ')}).`,
      { reason: 'unavailable', fields: { servers, ...(single ? { server: servers[0]?.server } : {}) } },
    );
    for (const job of this.waiting.splice(0)) job.fail(error);
  }

  /** Sends waiting jobs to the servers with the fewest jobs ahead, while any has room. */
  private dispatch(): void {
    if (this.closed) return;
    while (this.waiting.length > 0) {
      let best: Member | undefined;
      for (const member of this.members) {
        if (member.state !== 'up' || member.load >= this.depth) continue;
        if (!best || member.load < best.load || (member.load === best.load && member.jobs.size < best.jobs.size)) best = member;
      }
      if (!best) break;
      const job = this.waiting.shift() as PoolJob;
      this.submit(job, best);
    }
    this.watchAvailability();
  }

  private submit(job: PoolJob, member: Member): void {
    const promptId = job.takePromptId();
    const inner = member.client.run(job.workflow, {
      ...job.options,
      promptId,
      quietCheckMs: job.options.quietCheckMs ?? this.options.quietCheckMs,
      historyWaitMs: job.options.historyWaitMs ?? this.options.historyWaitMs,
    });
    const forwards = FORWARDED.map((event) => {
      const listener = (...args: unknown[]): void => {
        (job.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
      };
      inner.on(event, listener as never);
      return () => inner.off(event, listener as never);
    });
    let detached = false;
    const detach = (): void => {
      detached = true;
      for (const off of forwards) off();
    };
    job.attempt = { job: inner, member, detach };
    member.jobs.add(job);
    job.attempts.push({ server: member.display, promptId, outcome: 'running' });
    const attemptNumber = job.attempts.length;
    this.changed(member);
    job.emit('dispatched', { server: member.display, promptId, attempt: attemptNumber });
    this.emit('dispatched', { job, server: member.display, promptId, attempt: attemptNumber });

    inner.result.then(
      (result) => {
        if (detached) return;
        this.release(job, member);
        const record = job.attempts.at(-1);
        if (record) record.outcome = 'done';
        job.succeed({ ...result, server: member.display, client: member.client, attempts: job.attempts });
        this.dispatch();
      },
      (error: unknown) => {
        if (detached) return;
        if (isServerFailure(error) && !job.settled) {
          // The server may be gone: check it (which moves every job on it), or move this one.
          const reason = describe(error);
          if (isPyrosError(error) && error.kind !== 'lost') void this.check(member, reason);
          if (job.attempt?.job === inner) this.move(job, member, reason);
          this.changed(member);
          this.dispatch();
          return;
        }
        this.release(job, member);
        const record = job.attempts.at(-1);
        if (record) {
          record.outcome = 'failed';
          record.reason = describe(error);
        }
        job.fail(error);
        this.dispatch();
      },
    );
  }

  private release(job: PoolJob, member: Member): void {
    job.attempt?.detach();
    job.attempt = undefined;
    member.jobs.delete(job);
    member.finished += 1;
    this.changed(member);
  }
}

/** The cause in a few words: "connection refused", not the whole sentence with the address. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer';
  return error.message
    .replace(/^Cannot connect to ComfyUI at \S+: /, '')
    .replace(/^The WebSocket to \S+ /, 'the WebSocket ')
    .replace(/\.$/, '');
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PyrosError('connection', message, { reason: 'handshake-timeout', fields: { limitMs: ms } })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A pool of ComfyUI servers behind one job API. `pool.run(workflow)` returns a `PoolJob` with the
 * same events and result as a `Job`; the pool decides where it runs and moves it when a server
 * fails. A single server is simply a pool of one. No terminal code here.
 *
 * - Dispatch: jobs wait in the pool until a live server has fewer than `depth` jobs ahead of a
 *   new one (the larger of what this pool sent it and what its `status` frames and `/queue` say,
 *   other users' prompts included); the server with the fewest ahead gets it.
 * - Failure: when a server stops answering (socket and HTTP), the jobs on it move to the other
 *   servers under new prompt ids, but never back to it while it may still hold them. When no
 *   other server is up, they stay and follow their prompts as the server comes back.
 * - Recovery: a down server is probed with jittered exponential backoff; when it answers it
 *   rejoins. A prompt given up on there is followed again if its job has not gone elsewhere yet;
 *   otherwise it is deleted (or interrupted), and one that finished anyway is reported.
 */
import { EventEmitter } from 'node:events';
import { PyrosError, isPyrosError } from '../errors.ts';
import type { QueueState } from './api.ts';
import { Client, type ClientOptions } from './client.ts';
import type { Job, JobOptions } from './job.ts';
import { PoolJob } from './pool-job.ts';
import { describe, PoolMember, type PoolServerInfo } from './pool-member.ts';
import type { ApiWorkflow } from './types.ts';

export type { PoolAttempt, PoolJobEvents, PoolJobResult } from './pool-job.ts';
export type { PoolServerInfo, ServerState } from './pool-member.ts';
export { PoolJob } from './pool-job.ts';

export interface PoolOptions extends Omit<ClientOptions, 'server' | 'clientId'> {
  /** Server URLs, or full client options per server. */
  servers: readonly (string | (ClientOptions & { server: string }))[];
  /**
   * A server takes another job while fewer than this many are ahead of it (default 2: one running,
   * one waiting). `Infinity` sends every job at once (for one server, whose own queue orders them).
   */
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

export type PoolEvents = {
  /** A server changed state (or its load changed). */
  server: [info: PoolServerInfo];
  dispatched: [info: { job: PoolJob; server: string; promptId: string; attempt: number }];
  moved: [info: { job: PoolJob; from: string; promptId: string; reason: string }];
  /** A prompt abandoned on a server that failed finished there anyway (the job ran twice). */
  duplicate: [info: { job: PoolJob | undefined; server: string; promptId: string }];
  debug: [message: string];
};

type Member = PoolMember<PoolJob>;

/**
 * Failures that say something about the server rather than the workflow: try elsewhere. A 5xx
 * is not one of them (the prompt may have run), nor the job's own time limit.
 */
function isServerFailure(error: unknown): boolean {
  if (!isPyrosError(error)) return false;
  if (error.kind === 'timeout') return error.reason === 'request';
  return error.kind === 'connection' || error.kind === 'lost';
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
    if (this.started) void member.probe();
    return member.display;
  }

  private addMember(server: string | (ClientOptions & { server: string })): Member {
    const { servers: _s, depth: _d, probeTimeoutMs: _p, retryBaseMs: _b, retryMaxMs: _m, unavailableMs: _u, maxAttempts: _a, quietCheckMs: _q, historyWaitMs: _h, ...common } = this.options;
    const own = typeof server === 'string' ? { server } : server;
    const probeTimeoutMs = this.options.probeTimeoutMs ?? 3_000;
    const client = new Client({ pingIntervalMs: 5_000, connectTimeoutMs: probeTimeoutMs, ...common, ...own });
    const timing = { probeTimeoutMs, retryBaseMs: this.options.retryBaseMs ?? 500, retryMaxMs: this.options.retryMaxMs ?? 15_000 };
    const member: Member = new PoolMember<PoolJob>(this.members.length, client, timing, {
      changed: (m) => {
        this.emit('server', m.info());
        this.dispatch();
      },
      rejoining: (m, queue) => this.settleAbandoned(m, queue),
      lost: (m, reason) => this.serverLost(m, reason),
    });
    this.members.push(member);
    return member;
  }

  /** The servers and what the pool knows of them. */
  servers(): PoolServerInfo[] {
    return this.members.map((member) => member.info());
  }

  /** The clients of the servers, in the order given. */
  clients(): Client[] {
    return this.members.map((member) => member.client);
  }

  /** The client of a server of the pool (by display address), e.g. to download outputs. */
  clientOf(server: string): Client | undefined {
    return this.members.find((member) => member.display === server)?.client;
  }

  /** Queues a workflow; it is sent to a server as soon as one has room. */
  run(workflow: ApiWorkflow, options: JobOptions = {}): PoolJob {
    return this.queue(new PoolJob({ index: this.counter++, workflow, options, onCancel: (job) => this.forget(job) }));
  }

  /**
   * Follows a prompt that is already on a server of the pool (queued, running or finished), by
   * its id: on `server` when given, else on whichever server knows it.
   */
  follow(promptId: string, options: Omit<JobOptions, 'promptId' | 'extraData' | 'uploads'> & { server?: string } = {}): PoolJob {
    const { server, ...jobOptions } = options;
    const job = new PoolJob({ index: this.counter++, workflow: {}, options: jobOptions, follows: promptId, onCancel: (j) => this.forget(j) });
    this.start();
    void this.findAndFollow(job, server);
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
        fields: { promptId: job.promptId, server: job.server },
      });
    for (const job of this.waiting.splice(0)) job.fail(closed(job));
    for (const member of this.members) {
      for (const job of [...member.jobs]) {
        const error = closed(job);
        const inner = job.running?.job;
        job.fail(error);
        inner?.abandon(error);
      }
      member.jobs.clear();
      member.close();
    }
  }

  private forget(job: PoolJob): void {
    const at = this.waiting.indexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  private queue(job: PoolJob): PoolJob {
    if (this.closed) throw new PyrosError('usage', 'This pool is closed.', { reason: 'pool-closed' });
    this.enqueue(job);
    this.start();
    // Nothing is up and nothing is being probed: look now rather than at the next scheduled probe.
    if (!this.members.some((member) => member.state === 'up' || member.isProbing)) for (const member of this.members) member.probeNow();
    // After the caller has had a chance to listen to the job's `dispatched` event.
    queueMicrotask(() => this.dispatch());
    return job;
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
    for (const member of this.members) void member.probe();
  }

  /** A server that was up stopped answering: its jobs go elsewhere, or stay when nowhere else is up. */
  private serverLost(member: Member, reason: string): void {
    if (this.closed) return;
    const elsewhere = this.members.some((other) => other !== member && other.state === 'up');
    const kept = [...member.jobs].filter((job) => !elsewhere && job.running?.job.submission === 'accepted');
    for (const job of member.jobs) if (!kept.includes(job)) this.move(job, member, `server down: ${reason}`);
    member.remaining = 0;
    // Kept jobs need the socket to come back on its own; otherwise probes alone bring it back.
    if (kept.length === 0) member.client.socket.close();
    this.emit('debug', `${member.display} is down (${reason}); ${kept.length} job(s) stay there, the others move`);
    this.watchAvailability();
  }

  /** Takes a job off a failed server and puts it back in the queue. */
  private move(job: PoolJob, member: Member, reason: string): void {
    const running = job.running;
    if (!running || running.member !== member) return;
    const promptId = running.job.promptId;
    member.jobs.delete(job);
    member.abandoned.set(promptId, job);
    job.detach(reason);
    running.job.abandon(new PyrosError('lost', reason, { reason: 'moved', fields: { server: member.display, promptId } }));
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

  /**
   * A rejoining server may still hold prompts the pool gave up on there. A job still waiting for
   * another server follows its prompt there again; the others' prompts are deleted or interrupted,
   * and one that finished anyway is reported.
   */
  private async settleAbandoned(member: Member, queue: QueueState): Promise<void> {
    if (member.abandoned.size === 0) return;
    const api = member.client.api;
    const has = (promptId: string): boolean => queue.pending.some((e) => e.promptId === promptId) || queue.running.some((e) => e.promptId === promptId);
    const drop: string[] = [];
    for (const [promptId, job] of member.abandoned) {
      if (has(promptId) && job.phase === 'waiting' && this.waiting.includes(job)) {
        this.forget(job);
        this.attach(job, member, member.client.follow(promptId, this.jobOptions(job)));
        continue;
      }
      if (has(promptId)) {
        drop.push(promptId);
        continue;
      }
      const history = await api.history(promptId).catch(() => undefined);
      if (history?.status?.status_str === 'success') this.emit('duplicate', { job, server: member.display, promptId });
    }
    member.abandoned.clear();
    const pending = drop.filter((id) => queue.pending.some((e) => e.promptId === id));
    if (pending.length > 0) await api.deleteFromQueue(pending).catch(() => undefined);
    // One that started between the look at the queue and the delete runs now: interrupt it too.
    const now = pending.length > 0 ? await api.queue().catch(() => queue) : queue;
    for (const id of drop) if (now.running.some((e) => e.promptId === id)) await api.interrupt(id).catch(() => undefined);
  }

  /** With jobs waiting and no server up: fail them after `unavailableMs` (at once if none ever answered). */
  private watchAvailability(): void {
    if (this.waiting.length === 0 || this.members.some((member) => member.state === 'up')) {
      if (this.unavailableTimer) clearTimeout(this.unavailableTimer);
      this.unavailableTimer = undefined;
      return;
    }
    if (this.members.every((member) => !member.everUp && member.state === 'down' && !member.isProbing)) {
      this.failWaiting();
      return;
    }
    this.unavailableTimer ??= setTimeout(() => {
      this.unavailableTimer = undefined;
      if (!this.members.some((member) => member.state === 'up')) this.failWaiting();
    }, this.options.unavailableMs ?? 60_000);
  }

  private failWaiting(): void {
    const [only] = this.members;
    // One server: its own error says best what is wrong (refused, credentials, TLS …).
    const servers = this.members.map((m) => ({ server: m.display, reason: m.downReason ?? m.state }));
    const error =
      this.members.length === 1 && only && isPyrosError(only.lastError)
        ? only.lastError
        : new PyrosError('connection', `No server of the pool is reachable (${servers.map((s) => `${s.server}: ${s.reason}`).join('; ')}).`, {
            reason: 'unavailable',
            fields: { servers },
          });
    for (const job of this.waiting.splice(0)) job.fail(error);
  }

  /** Sends waiting jobs to the servers with the fewest jobs ahead, while any has room. */
  private dispatch(): void {
    if (this.closed) return;
    for (let i = 0; i < this.waiting.length; ) {
      const job = this.waiting[i] as PoolJob;
      let best: Member | undefined;
      // A job for the front of the queue does not wait for room.
      const depth = job.options.front ? Number.POSITIVE_INFINITY : this.depth;
      for (const member of this.members) {
        if (member.state !== 'up' || member.load >= depth) continue;
        if (job.pinnedTo !== undefined && job.pinnedTo !== member) continue;
        // Not back to a server that may still hold its earlier prompt.
        if ([...member.abandoned.values()].includes(job)) continue;
        if (!best || member.load < best.load || (member.load === best.load && member.jobs.size < best.jobs.size)) best = member;
      }
      if (!best) {
        if (!job.options.front && !this.members.some((member) => member.state === 'up' && member.load < this.depth)) break;
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.submit(job, best);
    }
    this.watchAvailability();
  }

  private jobOptions(job: PoolJob): JobOptions {
    return { ...job.options, quietCheckMs: job.options.quietCheckMs ?? this.options.quietCheckMs, historyWaitMs: job.options.historyWaitMs ?? this.options.historyWaitMs, signal: undefined };
  }

  private submit(job: PoolJob, member: Member): void {
    const options = this.jobOptions(job);
    const inner = job.follows ? member.client.follow(job.promptId, options) : member.client.run(job.workflow, { ...options, promptId: job.promptId });
    this.attach(job, member, inner);
  }

  /** Puts `job` on `member` as the client job `inner`, and settles it from that job's result. */
  private attach(job: PoolJob, member: Member, inner: Job): void {
    member.jobs.add(job);
    job.attach(member, inner);
    this.emit('dispatched', { job, server: member.display, promptId: inner.promptId, attempt: job.attempts.length });
    this.emit('server', member.info());
    inner.result.then(
      (result) => {
        if (job.running?.job !== inner) return;
        this.release(job, member);
        job.succeed(result, member);
        this.dispatch();
      },
      (error: unknown) => {
        if (job.running?.job !== inner) return;
        if (isServerFailure(error) && !job.follows && this.members.some((other) => other !== member && other.state === 'up')) {
          // The server may be gone: check it (which moves every job on it), or move this one.
          const reason = describe(error);
          if (isPyrosError(error) && error.kind !== 'lost') void member.check(reason);
          if (job.running?.job === inner) this.move(job, member, reason);
          this.dispatch();
          return;
        }
        this.release(job, member);
        job.fail(error, describe(error));
        this.dispatch();
      },
    );
  }

  private release(job: PoolJob, member: Member): void {
    member.jobs.delete(job);
    member.finished += 1;
    this.emit('server', member.info());
  }

  /** `follow` without a server: the first server whose queue or history has the prompt. */
  private async findAndFollow(job: PoolJob, server: string | undefined): Promise<void> {
    const promptId = job.follows as string;
    const candidates = server === undefined ? this.members : this.members.filter((member) => member.display === server || member.client.endpoint.base.href === server);
    const [first] = candidates;
    if (!first) {
      job.fail(new PyrosError('usage', `${server} is not a server of this pool.`, { reason: 'not-in-pool', fields: { server } }));
      return;
    }
    let found = candidates.length === 1 ? first : undefined;
    let unknownTo = 0;
    for (const member of found ? [] : candidates) {
      const known = await knows(member, promptId);
      if (known) {
        found = member;
        break;
      }
      if (known === false) unknownTo += 1;
    }
    if (!found && unknownTo === candidates.length) {
      // Every server answered, and none has it: say so of them all, not of the first alone.
      const servers = candidates.map((member) => ({ server: member.display, reason: 'not in its history nor in its queue' }));
      job.fail(
        new PyrosError('lost', `No server of the pool knows prompt ${promptId} (asked ${servers.map((entry) => entry.server).join(', ')}): it is neither in their history nor in their queues.`, {
          reason: 'unknown',
          fields: { promptId, servers },
        }),
      );
      return;
    }
    job.pinnedTo = found ?? first;
    this.queue(job);
  }
}

/** Whether the server has the prompt (queued, running or finished); undefined when it did not answer. */
async function knows(member: Member, promptId: string): Promise<boolean | undefined> {
  try {
    if (await member.client.api.history(promptId)) return true;
    const queue = await member.client.api.queue();
    return [...queue.pending, ...queue.running].some((entry) => entry.promptId === promptId);
  } catch {
    return undefined;
  }
}

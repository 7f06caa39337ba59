/**
 * What the batch view shows, as plain data: jobs done, failed and left, the rate and the time
 * left, and one line of facts per server (state, the job it runs, that job's step). Fed by the
 * command from pool and job events; no terminal code, time from an injected clock.
 */

export type BatchJobPhase = 'waiting' | 'queued' | 'running' | 'saving' | 'done' | 'failed';

export interface BatchJobState {
  index: number;
  server: string | undefined;
  phase: BatchJobPhase;
  /** Title of the node running now. */
  node: string | undefined;
  step: { value: number; max: number } | undefined;
  /** When it started running on its server (for "most recent"). */
  startedAt: number | undefined;
}

export interface BatchServerState {
  server: string;
  state: 'connecting' | 'up' | 'down' | 'closed';
  reason: string | undefined;
  /** When the next probe of a down server is due (clock time). */
  retryAt: number | undefined;
  finished: number;
}

export type BatchChange = 'server' | 'job' | 'progress' | 'finished';

export class BatchModel {
  readonly total: number;
  done = 0;
  failed = 0;
  readonly startedAt: number;
  readonly servers = new Map<string, BatchServerState>();
  /** The jobs under way (a finished one is dropped: a long batch holds only those in flight). */
  readonly jobs = new Map<number, BatchJobState>();
  /** One bit per job: it has finished (a late event of it changes nothing). */
  private readonly ended: Uint8Array;
  private readonly now: () => number;
  private readonly listeners = new Set<(change: BatchChange, index?: number) => void>();
  private firstFinishAt: number | undefined;
  private endedAt: number | undefined;

  constructor(options: { total: number; servers: readonly string[]; now?: () => number }) {
    this.total = options.total;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.ended = new Uint8Array(Math.ceil(Math.max(0, options.total) / 8));
    for (const server of options.servers) this.servers.set(server, { server, state: 'connecting', reason: undefined, retryAt: undefined, finished: 0 });
  }

  subscribe(listener: (change: BatchChange, index?: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get remaining(): number {
    return Math.max(0, this.total - this.done - this.failed);
  }

  server(info: { server: string; state: BatchServerState['state']; reason?: string; retryInMs?: number; finished?: number }): void {
    const known = this.servers.get(info.server);
    const next: BatchServerState = {
      server: info.server,
      state: info.state,
      reason: info.reason,
      retryAt: info.retryInMs === undefined ? undefined : this.now() + info.retryInMs,
      finished: info.finished ?? known?.finished ?? 0,
    };
    this.servers.set(info.server, next);
    this.changed('server');
  }

  private hasEnded(index: number): boolean {
    return ((this.ended[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  private job(index: number): BatchJobState {
    let job = this.jobs.get(index);
    // A finished job's late events go to a record that is not kept.
    if (!job && this.hasEnded(index)) return { index, server: undefined, phase: 'done', node: undefined, step: undefined, startedAt: undefined };
    if (!job) {
      job = { index, server: undefined, phase: 'waiting', node: undefined, step: undefined, startedAt: undefined };
      this.jobs.set(index, job);
    }
    return job;
  }

  /** Sent to a server (again, after a move). */
  dispatched(index: number, server: string): void {
    const job = this.job(index);
    job.server = server;
    job.phase = 'queued';
    job.node = undefined;
    job.step = undefined;
    job.startedAt = undefined;
    this.changed('job', index);
  }

  /** Its server failed: it waits for another one. */
  moved(index: number): void {
    const job = this.job(index);
    job.phase = 'waiting';
    job.server = undefined;
    this.changed('job', index);
  }

  started(index: number): void {
    const job = this.job(index);
    if (job.phase !== 'queued' && job.phase !== 'waiting') return;
    job.phase = 'running';
    job.startedAt = this.now();
    this.changed('job', index);
  }

  node(index: number, title: string): void {
    const job = this.job(index);
    if (job.phase === 'queued') this.started(index);
    job.node = title;
    job.step = undefined;
    this.changed('progress', index);
  }

  progress(index: number, value: number, max: number): void {
    const job = this.job(index);
    if (job.phase === 'queued') this.started(index);
    job.step = { value, max };
    this.changed('progress', index);
  }

  saving(index: number): void {
    this.job(index).phase = 'saving';
    this.changed('job', index);
  }

  finished(index: number, ok: boolean): void {
    if (this.hasEnded(index)) return;
    if (index >= 0 && index >> 3 < this.ended.length) this.ended[index >> 3] = (this.ended[index >> 3] ?? 0) | (1 << (index & 7));
    this.jobs.delete(index);
    if (ok) this.done += 1;
    else this.failed += 1;
    this.firstFinishAt ??= this.now();
    if (this.remaining === 0) this.endedAt = this.now();
    this.changed('finished', index);
  }

  elapsedMs(): number {
    return Math.max(0, (this.endedAt ?? this.now()) - this.startedAt);
  }

  /** Jobs per second since the batch started, once a job has finished. */
  jobsPerSecond(): number | undefined {
    const finished = this.done + this.failed;
    const elapsed = this.elapsedMs();
    if (finished === 0 || elapsed <= 0) return undefined;
    return finished / (elapsed / 1000);
  }

  /** Time left at the observed rate. */
  remainingMs(): number | undefined {
    const rate = this.jobsPerSecond();
    if (rate === undefined || rate <= 0 || this.remaining === 0) return undefined;
    return (this.remaining / rate) * 1000;
  }

  /** The job a server runs now (the latest started), and how many more of ours wait there. */
  activityOf(server: string): { running: BatchJobState | undefined; queued: number } {
    let running: BatchJobState | undefined;
    let queued = 0;
    for (const job of this.jobs.values()) {
      if (job.server !== server) continue;
      if (job.phase === 'queued') queued += 1;
      if ((job.phase === 'running' || job.phase === 'saving') && (!running || (job.startedAt ?? 0) > (running.startedAt ?? 0))) running = job;
    }
    return { running, queued };
  }

  private changed(change: BatchChange, index?: number): void {
    for (const listener of this.listeners) listener(change, index);
  }
}

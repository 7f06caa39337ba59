/**
 * One server of a pool: its client, its state, and how it is probed. The member owns its state
 * machine; the pool hears every change through `onChange` and decides where jobs go.
 *
 *   connecting ─→ up ⇄ down ─→ closed      (down → up after a probe that succeeds)
 */
import { PyrosError } from '../errors.ts';
import type { QueueState } from './api.ts';
import type { Client } from './client.ts';

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

type MemberState =
  | { state: 'connecting' }
  | { state: 'up' }
  | { state: 'down'; reason: string; error: unknown; failedProbes: number; retryAt: number; timer: NodeJS.Timeout }
  | { state: 'closed' };

export interface MemberTiming {
  probeTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface MemberHooks<Job> {
  /** The state or the load changed. */
  changed(member: PoolMember<Job>): void;
  /** It answered a probe: `queue` is what it holds now (for prompts the pool gave up on there). */
  rejoining(member: PoolMember<Job>, queue: QueueState): Promise<void>;
  /** It went down after being up: move or keep the jobs on it. */
  lost(member: PoolMember<Job>, reason: string): void;
}

export class PoolMember<Job = unknown> {
  readonly index: number;
  readonly client: Client;
  /** Jobs of the pool submitted to it and not finished. */
  readonly jobs = new Set<Job>();
  /** Prompts given up on while it was unreachable, with their jobs; settled when it rejoins. */
  readonly abandoned = new Map<string, Job>();
  remaining = 0;
  finished = 0;
  everUp = false;
  private current: MemberState = { state: 'connecting' };
  private probing = false;
  private readonly timing: MemberTiming;
  private readonly hooks: MemberHooks<Job>;
  private readonly cleanups: (() => void)[] = [];

  constructor(index: number, client: Client, timing: MemberTiming, hooks: MemberHooks<Job>) {
    this.index = index;
    this.client = client;
    this.timing = timing;
    this.hooks = hooks;
    this.watch();
  }

  get state(): ServerState {
    return this.current.state;
  }

  get display(): string {
    return this.client.endpoint.display;
  }

  /** Why it is down (a few words), and the error that put it there. */
  get downReason(): string | undefined {
    return this.current.state === 'down' ? this.current.reason : undefined;
  }

  get lastError(): unknown {
    return this.current.state === 'down' ? this.current.error : undefined;
  }

  private isClosed(): boolean {
    return this.current.state === 'closed';
  }

  get isProbing(): boolean {
    return this.probing;
  }

  /** Jobs ahead of a new one. */
  get load(): number {
    return Math.max(this.jobs.size, this.remaining);
  }

  info(): PoolServerInfo {
    const info: PoolServerInfo = { index: this.index, server: this.display, state: this.state, jobs: this.jobs.size, remaining: this.remaining, finished: this.finished };
    if (this.current.state === 'down') {
      info.reason = this.current.reason;
      info.retryInMs = Math.max(0, this.current.retryAt - Date.now());
    }
    return info;
  }

  // ── the one place where the state changes ─────────────────────────────────────────────

  private become(next: MemberState): void {
    if (this.current.state === 'down') clearTimeout(this.current.timer);
    const wasUp = this.current.state === 'up';
    this.current = next;
    if (next.state === 'up') this.everUp = true;
    if (next.state === 'down' && wasUp) this.hooks.lost(this, next.reason);
    this.hooks.changed(this);
  }

  /** Connects (socket and GET /queue) within the probe timeout: up on success, down otherwise. */
  async probe(): Promise<void> {
    if (this.current.state === 'closed' || this.current.state === 'up' || this.probing) return;
    this.probing = true;
    try {
      const timeout = this.timing.probeTimeoutMs;
      await withTimeout(this.client.connect(), timeout, `the WebSocket to ${this.display} did not open within ${timeout} ms`);
      const queue = await this.client.api.queue(AbortSignal.timeout(timeout));
      if (this.isClosed()) return;
      this.remaining = queue.running.length + queue.pending.length;
      await this.hooks.rejoining(this, queue);
      this.probing = false;
      if (!this.isClosed()) this.become({ state: 'up' });
    } catch (error) {
      // Not probing any more by the time the pool hears of the failure.
      this.probing = false;
      if (!this.isClosed()) this.fail(describe(error), error);
    } finally {
      this.probing = false;
    }
  }

  /** Probes now instead of waiting for the next retry (a job arrived and nothing is up). */
  probeNow(): void {
    if (this.current.state === 'down' || this.current.state === 'connecting') void this.probe();
  }

  /** The socket dropped or a job failed for a server reason: still answering over HTTP means a blip. */
  async check(reason: string): Promise<void> {
    try {
      const queue = await this.client.api.queue(AbortSignal.timeout(this.timing.probeTimeoutMs));
      this.remaining = queue.running.length + queue.pending.length;
    } catch (error) {
      if (this.state === 'up') this.fail(`${reason}, then ${describe(error)}`, error);
    }
  }

  /** Marks it down and schedules the next probe (jittered exponential backoff). */
  private fail(reason: string, error: unknown): void {
    const failedProbes = this.current.state === 'down' ? this.current.failedProbes + 1 : 1;
    const ceiling = Math.min(this.timing.retryMaxMs, this.timing.retryBaseMs * 2 ** Math.min(20, failedProbes - 1));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    const timer = setTimeout(() => void this.probe(), delay);
    this.become({ state: 'down', reason, error, failedProbes, retryAt: Date.now() + delay, timer });
  }

  /** Load reported by the server's `status` frames. */
  private watch(): void {
    const socket = this.client.socket;
    const onStatus = ({ queueRemaining: remaining }: { queueRemaining: number }): void => {
      if (remaining === this.remaining) return;
      this.remaining = remaining;
      this.hooks.changed(this);
    };
    const onReconnecting = (info: { reason: string }): void => {
      if (this.state === 'up') void this.check(info.reason);
    };
    socket.on('status', onStatus);
    socket.on('reconnecting', onReconnecting);
    this.cleanups.push(() => {
      socket.off('status', onStatus);
      socket.off('reconnecting', onReconnecting);
    });
  }

  close(): void {
    if (this.current.state === 'closed') return;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.become({ state: 'closed' });
    this.client.close();
  }
}

/** The cause in a few words: "connection refused", not the whole sentence with the address. */
export function describe(error: unknown): string {
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

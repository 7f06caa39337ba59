/**
 * What the display shows, as plain data: fed by a job's events and, for the steps around the job
 * (connecting, submitting, downloading, saving), by the command that runs it. No terminal code
 * and no timers here; time comes from an injected clock so every state can be tested.
 */
import type { ImageMime } from '../client/binary.ts';
import type { PromptWarning, QueuePosition } from '../client/job.ts';
import type { NodeRef } from '../client/types.ts';
import { StepRate } from './step-rate.ts';

export type Phase =
  | 'idle'
  | 'connecting'
  | 'submitting'
  | 'queued'
  | 'running'
  | 'cancelling'
  | 'downloading'
  | 'saving'
  | 'done'
  | 'failed'
  | 'cancelled';

/** Extra facts for a phase: `downloading` {done, total, text: file name}, `connecting` {text: server}. */
export interface PhaseDetail {
  text?: string;
  done?: number;
  total?: number;
}

export interface PreviewInfo {
  mime: ImageMime;
  image: Buffer;
  node: NodeRef | undefined;
  receivedAt: number;
}

export interface ConnectionInfo {
  state: 'reconnecting' | 'reconnected' | 'checking';
  attempt?: number;
  /** Wait before this attempt (bounded, jittered backoff). */
  delayMs?: number;
  reason?: string;
}

export interface ProgressState {
  phase: Phase;
  detail: PhaseDetail | undefined;
  /** Shown before the activity, e.g. `2/5` in a batch. */
  label: string | undefined;
  promptId: string | undefined;
  queue: QueuePosition | undefined;
  node: NodeRef | undefined;
  step: { value: number; max: number } | undefined;
  overall: { done: number; total: number } | undefined;
  cachedNodes: number;
  startedAt: number;
  runStartedAt: number | undefined;
  endedAt: number | undefined;
  preview: PreviewInfo | undefined;
  warnings: string[];
  /** Set while the socket is down. */
  connection: ConnectionInfo | undefined;
}

export type ModelChange =
  | 'reset'
  | 'phase'
  | 'submitted'
  | 'queue'
  | 'node'
  | 'progress'
  | 'overall'
  | 'cached'
  | 'preview'
  | 'warning'
  | 'connection';

const FINAL_PHASES: ReadonlySet<Phase> = new Set(['done', 'failed', 'cancelled']);
/** Once here, the run on the server is over: late node, progress and preview events are stale. */
const AFTER_RUN_PHASES: ReadonlySet<Phase> = new Set(['downloading', 'saving', 'done', 'failed', 'cancelled']);
const BEFORE_RUN_PHASES: ReadonlySet<Phase> = new Set(['idle', 'connecting', 'submitting', 'queued']);

export function isFinalPhase(phase: Phase): boolean {
  return FINAL_PHASES.has(phase);
}

export interface ProgressModelOptions {
  now?: () => number;
  label?: string;
}

export class ProgressModel {
  private readonly now: () => number;
  private readonly rate = new StepRate();
  private readonly leftNodes = new Set<string>();
  private readonly listeners = new Set<(change: ModelChange) => void>();
  private runOver = false;
  private current: ProgressState;

  constructor(options: ProgressModelOptions = {}) {
    this.now = options.now ?? Date.now;
    this.current = this.fresh(options.label);
  }

  get state(): Readonly<ProgressState> {
    return this.current;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (change: ModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts over for another job (interactive mode, the next job of a batch). */
  reset(label?: string): void {
    this.current = this.fresh(label);
    this.rate.reset();
    this.leftNodes.clear();
    this.runOver = false;
    this.changed('reset');
  }

  setPhase(phase: Phase, detail?: PhaseDetail): void {
    const state = this.current;
    if (phase === 'running' && state.runStartedAt === undefined) state.runStartedAt = this.now();
    if (FINAL_PHASES.has(phase)) {
      state.endedAt ??= this.now();
      this.runOver = true;
    } else {
      state.endedAt = undefined;
    }
    if (AFTER_RUN_PHASES.has(phase)) this.runOver = true;
    state.phase = phase;
    state.detail = detail;
    this.changed('phase');
  }

  submitted(info: { promptId: string; warnings?: readonly PromptWarning[] }): void {
    const state = this.current;
    state.promptId = info.promptId;
    for (const warning of info.warnings ?? []) state.warnings.push(`${warning.title}: ${warning.message}`);
    if (BEFORE_RUN_PHASES.has(state.phase)) {
      state.phase = 'queued';
      state.detail = undefined;
    }
    this.changed('submitted');
  }

  queued(position: QueuePosition): void {
    const state = this.current;
    if (!BEFORE_RUN_PHASES.has(state.phase)) return;
    state.phase = 'queued';
    state.queue = position;
    this.changed('queue');
  }

  started(): void {
    if (this.runOver || !BEFORE_RUN_PHASES.has(this.current.phase)) return;
    this.setPhase('running');
  }

  cached(nodes: readonly NodeRef[]): void {
    if (this.runOver) return;
    this.current.cachedNodes += nodes.length;
    this.changed('cached');
  }

  node(node: NodeRef): void {
    if (this.runOver) return;
    const state = this.current;
    this.enterRunning();
    if (state.node && state.node.nodeId !== node.nodeId) this.leftNodes.add(state.node.nodeId);
    if (state.node?.nodeId === node.nodeId) return;
    this.leftNodes.delete(node.nodeId);
    state.node = node;
    state.step = undefined;
    this.rate.reset();
    this.changed('node');
  }

  progress(info: { node: NodeRef; value: number; max: number }): void {
    if (this.runOver || this.leftNodes.has(info.node.nodeId)) return;
    if (!Number.isFinite(info.value) || !Number.isFinite(info.max) || info.max <= 0) return;
    const state = this.current;
    // Without `executing` (a prompt submitted without client id) progress is the only sign of a node.
    if (state.node?.nodeId !== info.node.nodeId) this.node(info.node);
    this.enterRunning();
    const value = Math.min(Math.max(0, info.value), info.max);
    state.step = { value, max: info.max };
    this.rate.add(value, info.max, this.now());
    this.changed('progress');
  }

  overall(info: { done: number; total: number }): void {
    if (this.runOver) return;
    const total = Math.max(0, info.total);
    this.current.overall = { done: Math.min(Math.max(0, info.done), total), total };
    this.changed('overall');
  }

  preview(info: { mime: ImageMime; image: Buffer; node: NodeRef | undefined }): void {
    if (this.runOver) return;
    this.current.preview = { ...info, receivedAt: this.now() };
    this.changed('preview');
  }

  /** Shows a dropped socket until it is back; routine HTTP checks of a quiet job are not shown. */
  connection(info: ConnectionInfo): void {
    if (info.state === 'checking') return;
    this.current.connection = info.state === 'reconnecting' ? info : undefined;
    this.changed('connection');
  }

  warn(message: string): void {
    this.current.warnings.push(message);
    this.changed('warning');
  }

  /** The run on the server is over (the job's result settled): later job events are stale. */
  runEnded(): void {
    this.runOver = true;
    this.current.connection = undefined;
  }

  /** Sets a final phase: `done`, `failed` or `cancelled`. */
  finish(outcome: 'done' | 'failed' | 'cancelled', detail?: PhaseDetail): void {
    this.setPhase(outcome, detail);
  }

  elapsedMs(): number {
    const state = this.current;
    return Math.max(0, (state.endedAt ?? this.now()) - state.startedAt);
  }

  /** Time left for the current node's steps; undefined when there is nothing to estimate. */
  remainingMs(): number | undefined {
    const state = this.current;
    if (state.phase !== 'running' || !state.step) return undefined;
    return this.rate.remainingMs(this.now());
  }

  stepsPerSecond(): number | undefined {
    return this.current.phase === 'running' && this.current.step ? this.rate.perSecond() : undefined;
  }

  private enterRunning(): void {
    if (BEFORE_RUN_PHASES.has(this.current.phase)) this.setPhase('running');
  }

  private fresh(label: string | undefined): ProgressState {
    return {
      phase: 'idle',
      detail: undefined,
      label,
      promptId: undefined,
      queue: undefined,
      node: undefined,
      step: undefined,
      overall: undefined,
      cachedNodes: 0,
      startedAt: this.now(),
      runStartedAt: undefined,
      endedAt: undefined,
      preview: undefined,
      warnings: [],
      connection: undefined,
    };
  }

  private changed(change: ModelChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** `Queued at position 2 of 3 (1 running)`. */
export function describeQueue(queue: QueuePosition | undefined): string {
  if (!queue) return 'Queued';
  const of = queue.pending > 1 ? ` of ${queue.pending}` : '';
  const running = queue.running > 0 ? ` (${queue.running} running)` : '';
  return `Queued at position ${queue.position}${of}${running}`;
}

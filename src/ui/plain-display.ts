/**
 * Output for logs, pipes, CI and dumb terminals: one plain line per meaningful change (queue
 * position, node started, every 10 % of a node's steps, reconnects, the end). No escape sequence
 * is ever written, whatever the text that comes in.
 */
import { stripVTControlCharacters } from 'node:util';
import { formatDuration, percentOf } from './format.ts';
import type { ModelChange, ProgressModel } from './progress-model.ts';
import { describeActivity, describeNode } from './status-lines.ts';
import { sanitize } from './text.ts';

export interface LineStream {
  write(chunk: string): boolean;
}

export class PlainDisplay {
  private readonly stream: LineStream;
  private readonly model: ProgressModel;
  private readonly unsubscribe: () => void;
  private lastActivity = '';
  private lastQueue = '';
  private lastNodeId: string | undefined;
  /** Tens of percent of the current node already told (the start is not worth a line). */
  private lastDecile = 0;
  private reconnecting = false;
  private lines = 0;

  constructor(options: { stream: LineStream; model: ProgressModel }) {
    this.stream = options.stream;
    this.model = options.model;
    this.unsubscribe = this.model.subscribe((change) => this.onChange(change));
  }

  log(line: string): void {
    const clean = stripVTControlCharacters(line.replace(/\n$/, ''))
      .split('\n')
      .map((part) => sanitize(part))
      .join('\n');
    this.stream.write(`${clean}\n`);
    this.lines += 1;
  }

  stop(options: { lines?: readonly string[] } = {}): void {
    for (const line of options.lines ?? []) this.log(line);
  }

  dispose(): void {
    this.unsubscribe();
  }

  stats(): { lines: number } {
    return { lines: this.lines };
  }

  private onChange(change: ModelChange): void {
    const state = this.model.state;
    switch (change) {
      case 'reset':
        this.lastActivity = '';
        this.lastQueue = '';
        this.lastNodeId = undefined;
        this.lastDecile = 0;
        return;
      case 'submitted':
        this.log('Submitted');
        return;
      case 'queue': {
        const text = describeActivity(state);
        if (text !== this.lastQueue) this.log(text);
        this.lastQueue = text;
        return;
      }
      case 'node':
        this.announceNode();
        return;
      case 'progress':
        this.announceNode();
        this.announceProgress();
        return;
      case 'connection':
        if (state.connection?.state === 'reconnecting') {
          this.reconnecting = true;
          const { attempt, delayMs } = state.connection;
          const when = delayMs === undefined ? '' : `next try in ${(delayMs / 1000).toFixed(1)} s`;
          const detail = [attempt ? `attempt ${attempt}` : '', when].filter(Boolean).join(', ');
          this.log(`Connection lost, reconnecting${detail ? ` (${detail})` : ''}`);
        } else if (this.reconnecting) {
          this.reconnecting = false;
          this.log('Reconnected');
        }
        return;
      case 'phase':
        this.announcePhase();
        return;
      default:
        return;
    }
  }

  private announcePhase(): void {
    const state = this.model.state;
    // Queued and running are told by the queue and node lines; the rest by the phase.
    if (state.phase === 'queued' || state.phase === 'running' || state.phase === 'idle') return;
    const text = describeActivity(state, this.model.elapsedMs());
    if (text === this.lastActivity) return;
    this.lastActivity = text;
    this.log(text);
  }

  private announceNode(): void {
    const state = this.model.state;
    const node = state.node;
    if (!node || node.nodeId === this.lastNodeId) return;
    this.lastNodeId = node.nodeId;
    this.lastDecile = 0;
    const overall = state.overall ? ` [${Math.min(state.overall.done + 1, state.overall.total)}/${state.overall.total}]` : '';
    this.log(`Running ${describeNode(node)}${overall}`);
  }

  private announceProgress(): void {
    const step = this.model.state.step;
    if (!step) return;
    const percent = percentOf(step.value, step.max);
    const decile = Math.floor(percent / 10);
    if (decile <= this.lastDecile) return;
    this.lastDecile = decile;
    const rate = this.model.stepsPerSecond();
    const left = this.model.remainingMs();
    const eta = left !== undefined && step.value < step.max ? `, ${formatDuration(left)} left` : '';
    this.log(`  ${percent}% (${step.value}/${step.max}${rate ? `, ${rate.toFixed(2)} it/s` : ''}${eta})`);
  }
}

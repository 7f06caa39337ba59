/**
 * The text rows of the live display, from the model: what is happening, the current node's steps,
 * the nodes done, and the clock. Pure: the same state, time and width give the same rows.
 */
import { progressBar, pulseBar } from './bar.ts';
import { formatClock, formatDuration, formatRate, percentOf } from './format.ts';
import { describeQueue, type ProgressModel, type ProgressState } from './progress-model.ts';
import { fitToWidth, sanitize, type Segment } from './text.ts';

export interface StatusOptions {
  width: number;
  color: boolean;
  /** For animations (spinner, pulse); usually the clock. */
  timeMs: number;
  spinner: { frames: readonly string[]; interval: number };
}

/** How many rows `statusLines` returns: the layout keeps its height so nothing jumps. */
export const STATUS_ROWS = 4;

const LABEL_WIDTH = 7;

export function describeActivity(state: Readonly<ProgressState>, elapsedMs = 0): string {
  const detail = state.detail?.text ? sanitize(state.detail.text) : '';
  const counted = state.detail?.total ? ` ${state.detail.done ?? 0}/${state.detail.total}` : '';
  switch (state.phase) {
    case 'idle':
      return 'Waiting';
    case 'connecting':
      return detail ? `Connecting to ${detail}` : 'Connecting';
    case 'submitting':
      return 'Submitting the prompt';
    case 'queued':
      return describeQueue(state.queue);
    case 'running':
      return state.node ? `Running ${describeNode(state.node)}` : 'Starting';
    case 'cancelling':
      return 'Cancelling…';
    case 'downloading':
      return `Downloading outputs${counted}${detail ? ` · ${detail}` : ''}`;
    case 'saving':
      return `Saving${detail ? ` ${detail}` : ''}`;
    case 'done':
      return detail || `Done in ${formatDuration(elapsedMs)}`;
    case 'failed':
      return detail || `Failed after ${formatDuration(elapsedMs)}`;
    case 'cancelled':
      return detail || `Cancelled after ${formatDuration(elapsedMs)}`;
  }
}

/** `"My sampler" (KSampler)`, or just `KSampler` when the title is the class name. */
export function describeNode(node: { title: string; classType: string | undefined }): string {
  const title = sanitize(node.title);
  const classType = node.classType ? sanitize(node.classType) : undefined;
  if (classType === title) return title;
  if (!classType) return `"${title}"`;
  return `"${title}" (${classType})`;
}

function statusIcon(state: Readonly<ProgressState>, options: StatusOptions): Segment {
  switch (state.phase) {
    case 'done':
      return { text: '✔', style: 'green' };
    case 'failed':
      return { text: '✖', style: 'red' };
    case 'cancelled':
      return { text: '✖', style: 'yellow' };
    default: {
      const { frames, interval } = options.spinner;
      return { text: frames[Math.floor(options.timeMs / interval) % frames.length] ?? '•', style: 'cyan' };
    }
  }
}

function barWidth(width: number): number {
  return Math.max(10, Math.min(40, width - LABEL_WIDTH - 26));
}

function label(text: string): Segment {
  return { text: `  ${text}`.padEnd(LABEL_WIDTH + 1), style: 'dim' };
}

function stepRow(model: ProgressModel, options: StatusOptions): Segment[] {
  const state = model.state;
  const width = barWidth(options.width);
  const { color } = options;
  if (state.phase === 'downloading' || state.phase === 'saving') {
    const total = state.detail?.total ?? 0;
    const done = state.detail?.done ?? 0;
    if (total > 0) {
      return [label('files'), { text: progressBar(done / total, width, color, done >= total ? 'complete' : 'active') }, { text: ` ${String(percentOf(done, total)).padStart(3)}%  ${done}/${total}` }];
    }
    return [label('files'), { text: pulseBar(width, options.timeMs, color) }];
  }
  const step = state.step;
  if (step) {
    const ended = state.phase === 'failed' || state.phase === 'cancelled';
    const tone = ended ? 'failed' : step.value >= step.max ? 'complete' : 'active';
    const rate = model.stepsPerSecond();
    return [
      label('steps'),
      { text: progressBar(step.value / step.max, width, color, tone) },
      { text: ` ${String(percentOf(step.value, step.max)).padStart(3)}%`, style: 'bold' },
      { text: `  ${step.value}/${step.max}` },
      { text: rate ? `  ${formatRate(rate)}` : '', style: 'dim' },
    ];
  }
  if (state.phase === 'done') return [label('steps'), { text: progressBar(1, width, color, 'complete') }, { text: ' 100%', style: 'bold' }];
  if (state.phase === 'failed' || state.phase === 'cancelled' || state.phase === 'idle') {
    return [label('steps'), { text: progressBar(0, width, color) }];
  }
  return [label('steps'), { text: pulseBar(width, options.timeMs, color) }];
}

function overallRow(model: ProgressModel, options: StatusOptions): Segment[] {
  const state = model.state;
  const width = barWidth(options.width);
  const overall = state.overall;
  if (!overall || overall.total === 0) return [label('nodes'), { text: progressBar(0, width, options.color) }];
  const ended = state.phase === 'failed' || state.phase === 'cancelled';
  const tone = ended ? 'failed' : overall.done >= overall.total ? 'complete' : 'active';
  const cached = state.cachedNodes > 0 ? ` · ${state.cachedNodes} cached` : '';
  return [
    label('nodes'),
    { text: progressBar(overall.done / overall.total, width, options.color, tone) },
    { text: ` ${String(percentOf(overall.done, overall.total)).padStart(3)}%`, style: 'bold' },
    { text: `  ${overall.done}/${overall.total}` },
    { text: cached, style: 'dim' },
  ];
}

function footerRow(model: ProgressModel): Segment[] {
  const state = model.state;
  const parts: Segment[] = [{ text: '  ' }, { text: formatClock(model.elapsedMs()) }, { text: ' elapsed', style: 'dim' }];
  const remaining = model.remainingMs();
  if (remaining !== undefined) parts.push({ text: ' · ', style: 'dim' }, { text: `~${formatClock(Math.ceil(remaining / 1000) * 1000)}` }, { text: ' left', style: 'dim' });
  if (state.promptId) parts.push({ text: ' · prompt ', style: 'dim' }, { text: sanitize(state.promptId), style: 'dim' });
  return parts;
}

export function statusLines(model: ProgressModel, options: StatusOptions): string[] {
  const state = model.state;
  const first: Segment[] = [statusIcon(state, options), { text: ' ' }];
  if (state.label) first.push({ text: `[${sanitize(state.label)}] `, style: 'dim' });
  first.push({ text: describeActivity(state, model.elapsedMs()), style: state.phase === 'failed' ? 'red' : 'bold' });
  if (state.connection?.state === 'reconnecting') {
    const attempt = state.connection.attempt ? ` (attempt ${state.connection.attempt})` : '';
    first.push({ text: ` · connection lost, reconnecting${attempt}`, style: 'yellow' });
  }
  const rows = [first, stepRow(model, options), overallRow(model, options), footerRow(model)];
  return rows.map((segments) => fitToWidth(segments, options.width, options.color));
}

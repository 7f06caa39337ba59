/**
 * The display of a batch: on a terminal, the preview of the most recently started job on top,
 * then a totals row (done, failed, left, rate, time left) and one row per server (address,
 * state, the job it runs and that job's step); elsewhere, plain lines for each finished job and
 * each server that goes down or comes back. Fed by the command through `model` and `attach`.
 */
import type { JobEvents } from '../../client/job.ts';
import { formatClock } from '../format.ts';
import type { DisplayMode, DisplayOptions, JobSource } from '../index.ts';
import { chooseDisplayMode } from '../index.ts';
import { LiveDisplay } from '../live-display.ts';
import { PlainDisplay } from '../plain-display.ts';
import { previewFromEnv } from '../preview/detect.ts';
import { ProgressModel } from '../progress-model.ts';
import type { StatusOptions } from '../status-lines.ts';
import { fitToWidth, sanitize, type Segment } from '../text.ts';
import { BatchModel, type BatchServerState } from './model.ts';

export interface BatchDisplayOptions extends DisplayOptions {
  total: number;
  servers: readonly string[];
}

export interface BatchDisplay {
  readonly mode: DisplayMode;
  readonly model: BatchModel;
  /** Follows a job's node, step and preview events (job `index` of the batch) until its result settles. */
  attach(job: JobSource, index: number): void;
  /** A line above the live rows (or a plain line). */
  log(line: string): void;
  /** Draws the final rows and prints `lines` below them. */
  stop(options?: { lines?: readonly string[] }): void;
}

const STATE_STYLE: Record<BatchServerState['state'], Segment['style']> = { connecting: 'yellow', up: 'green', down: 'red', closed: 'dim' };

export function createBatchDisplay(options: BatchDisplayOptions): BatchDisplay {
  const env = options.env ?? process.env;
  const requested = options.mode ?? 'auto';
  const mode = requested === 'auto' ? chooseDisplayMode({ isTTY: options.stream.isTTY, env, color: options.color }) : requested;
  const color = options.color ?? true;
  const now = options.now ?? Date.now;
  const model = new BatchModel({ total: options.total, servers: options.servers, now });
  // Only the preview of the most recent job goes through this model.
  const previewModel = new ProgressModel({ now });
  let latest = -1;
  let latestStartedAt = -1;

  const attach = (job: JobSource, index: number): void => {
    const onStarted = (): void => {
      model.started(index);
      const started = model.jobs.get(index)?.startedAt ?? now();
      if (started >= latestStartedAt) {
        latest = index;
        latestStartedAt = started;
      }
    };
    const onNode = (...[node]: JobEvents['node']): void => model.node(index, node.title);
    const onProgress = (...[info]: JobEvents['progress']): void => model.progress(index, info.value, info.max);
    const onPreview = (...[info]: JobEvents['preview']): void => {
      if (index === latest) previewModel.preview(info);
    };
    job.on('started', onStarted);
    job.on('node', onNode);
    job.on('progress', onProgress);
    job.on('preview', onPreview);
    const detach = (): void => {
      job.off('started', onStarted);
      job.off('node', onNode);
      job.off('progress', onProgress);
      job.off('preview', onPreview);
    };
    job.result.then(detach, detach);
  };

  if (mode === 'none') {
    return { mode, model, attach, log: () => undefined, stop: () => undefined };
  }

  if (mode === 'plain') {
    const plain = new PlainDisplay({ stream: options.stream, model: new ProgressModel({ now }) });
    const told = new Map<string, string>();
    model.subscribe((change) => {
      if (change !== 'server') return;
      for (const server of model.servers.values()) {
        if (told.get(server.server) === server.state) continue;
        const text = server.state === 'down' ? `down (${server.reason ?? 'no answer'})` : server.state;
        // "connecting" is the start; tell it only if it is still so later.
        if (!told.has(server.server) && server.state === 'connecting') continue;
        told.set(server.server, server.state);
        plain.log(`server ${server.server}: ${text}`);
      }
    });
    return { mode, model, attach, log: (line) => plain.log(line), stop: (stop = {}) => plain.stop({ lines: stop.lines }) };
  }

  const choice = typeof options.preview === 'object' ? options.preview : previewFromEnv(options.preview ?? 'auto', env, { stdoutIsTTY: options.stream.isTTY === true, stdinIsTTY: false });
  const live = new LiveDisplay({
    stream: options.stream,
    model: previewModel,
    color,
    preview: choice === 'query' || choice.protocol === 'off' ? undefined : choice,
    columns: options.columns,
    rows: options.rows,
    maxPreviewRows: options.maxPreviewRows ?? 16,
    guardExit: options.guardExit,
    now,
    status: { rows: 1 + options.servers.length, lines: (status) => batchLines(model, status) },
  });
  model.subscribe(() => live.invalidate());
  let started = false;
  return {
    mode,
    model,
    attach(job, index) {
      if (!started) {
        started = true;
        live.start();
      }
      attach(job, index);
    },
    log: (line) => live.log(line),
    stop: (stop = {}) => live.stop({ lines: stop.lines }),
  };
}

/** The totals row and one row per server. Pure: same model, time and width, same rows. */
export function batchLines(model: BatchModel, options: StatusOptions): string[] {
  const { color, width } = options;
  const ended = model.remaining === 0;
  const icon: Segment = ended
    ? model.failed > 0
      ? { text: '✖', style: 'red' }
      : { text: '✔', style: 'green' }
    : { text: options.spinner.frames[Math.floor(options.timeMs / options.spinner.interval) % options.spinner.frames.length] ?? '•', style: 'cyan' };
  const totals: Segment[] = [icon, { text: ' ' }, { text: `${model.done}/${model.total} done`, style: 'bold' }];
  if (model.failed > 0) totals.push({ text: ' · ', style: 'dim' }, { text: `${model.failed} failed`, style: 'red' });
  totals.push({ text: ' · ', style: 'dim' }, { text: `${model.remaining} left` });
  const rate = model.jobsPerSecond();
  if (rate !== undefined) totals.push({ text: ' · ', style: 'dim' }, { text: rate >= 1 ? `${rate.toFixed(1)} jobs/s` : `${(1 / rate).toFixed(1)} s/job`, style: 'dim' });
  const left = model.remainingMs();
  if (left !== undefined) totals.push({ text: ' · ', style: 'dim' }, { text: `~${formatClock(Math.ceil(left / 1000) * 1000)} left` });
  totals.push({ text: ' · ', style: 'dim' }, { text: `${formatClock(model.elapsedMs())} elapsed`, style: 'dim' });

  const hostWidth = Math.min(32, Math.max(...[...model.servers.keys()].map((s) => shortHost(s).length), 4));
  const rows = [fitToWidth(totals, width, color)];
  for (const server of model.servers.values()) {
    const segments: Segment[] = [{ text: `  ${shortHost(server.server).padEnd(hostWidth)}  ` }, { text: server.state.padEnd(10), style: STATE_STYLE[server.state] }];
    if (server.state === 'down') {
      const retry = server.retryAt === undefined ? '' : `retry in ${Math.max(0, Math.ceil((server.retryAt - options.timeMs) / 1000))}s · `;
      segments.push({ text: `${retry}${sanitize(server.reason ?? 'no answer')}`, style: 'dim' });
    } else {
      const { running, queued } = model.activityOf(server.server);
      if (running) {
        segments.push({ text: `job ${running.index + 1}/${model.total}`, style: 'bold' });
        if (running.phase === 'saving') segments.push({ text: '  saving' });
        else if (running.node) segments.push({ text: `  ${sanitize(running.node)}` });
        if (running.step && running.phase !== 'saving') segments.push({ text: ` ${running.step.value}/${running.step.max}` });
      } else if (server.state === 'up') {
        segments.push({ text: queued > 0 ? 'starting' : 'idle', style: 'dim' });
      }
      if (queued > 0 && running) segments.push({ text: `  (+${queued} queued)`, style: 'dim' });
      segments.push({ text: `  ${server.finished} run`, style: 'dim' });
    }
    rows.push(fitToWidth(segments, width, color));
  }
  return rows;
}

/** `127.0.0.1:8188` for `http://127.0.0.1:8188`; other schemes and paths are kept. */
function shortHost(server: string): string {
  return server.replace(/^http:\/\//, '');
}

/**
 * What every display has in common, whatever it draws: the model fed by a job's events, warnings
 * shown once, phases, stop. The live view (index.ts) and the plain one (plain.ts) plug into it,
 * so that a command printing plain lines never loads the live view and its image decoders.
 */
import type { JobEvents } from '../client/job.ts';
import { subscribe } from '../client/subscribe.ts';
import type { LiveDisplayStats, TerminalStream } from './live-display.ts';
import type { PreviewChoice, PreviewMode } from './preview/detect.ts';
import { isFinalPhase, ProgressModel, type Phase, type PhaseDetail } from './progress-model.ts';
import { paint, sanitize } from './text.ts';

export type DisplayMode = 'live' | 'plain' | 'none';

export interface DisplayOptions {
  /** Where the display writes (the CLI's choice; stderr keeps stdout free for results). */
  stream: TerminalStream;
  /** `auto` (default) picks with `chooseDisplayMode`. */
  mode?: DisplayMode | 'auto';
  /** Colours in the live view (default: on). `false` from --no-color makes `auto` choose plain. */
  color?: boolean;
  /** A choice from `detectPreview` (which may ask the terminal), or a mode decided from the environment alone. */
  preview?: PreviewMode | PreviewChoice;
  columns?: () => number;
  rows?: () => number;
  env?: Record<string, string | undefined>;
  /** Largest preview in rows (default 24). */
  maxPreviewRows?: number;
  maxPreviewCols?: number;
  /** Restore the terminal on exit and unhandled signals (default true). */
  guardExit?: boolean;
  now?: () => number;
}

/** The events of a Job the display listens to (a Job, or anything that emits the same). */
export interface JobSource {
  readonly promptId: string;
  readonly result: Promise<unknown>;
  on<K extends keyof JobEvents>(event: K, listener: (...args: JobEvents[K]) => void): unknown;
  off<K extends keyof JobEvents>(event: K, listener: (...args: JobEvents[K]) => void): unknown;
}

export interface StopOptions {
  /** Sets the final state shown (unless one was already set by `phase`). */
  outcome?: 'done' | 'failed' | 'cancelled';
  /** Replaces the default final text (`Done in 12.3s`). */
  message?: string;
  /** Printed below the final frame (saved files, an error block). */
  lines?: readonly string[];
  /** Erase the live area instead of leaving the final frame. */
  clear?: boolean;
  /** Leave the preview image in the final frame (default true). */
  keepPreview?: boolean;
}

export interface DisplayStats {
  mode: DisplayMode;
  writes: number;
  bytes: number;
  preview: LiveDisplayStats['preview'];
}

export interface Display {
  readonly mode: DisplayMode;
  readonly model: ProgressModel;
  /** Follows a job's events until its result settles; returns a function that stops following it. */
  attach(job: JobSource, options?: { label?: string }): () => void;
  /** Steps outside the job: connecting, submitting, downloading {done, total}, saving, … */
  phase(phase: Phase, detail?: PhaseDetail): void;
  /** A line above the live area (or a plain line). */
  log(line: string): void;
  warn(message: string): void;
  stop(options?: StopOptions): void;
  stats(): DisplayStats;
}

/**
 * `none` for --json, `plain` when the stream is not a terminal, TERM=dumb, NO_COLOR is set or
 * --no-color was given; otherwise `live`.
 */
export function chooseDisplayMode(options: { isTTY: boolean | undefined; env?: Record<string, string | undefined>; color?: boolean; json?: boolean }): DisplayMode {
  const env = options.env ?? process.env;
  if (options.json) return 'none';
  if (!options.isTTY) return 'plain';
  if (env.TERM === 'dumb') return 'plain';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 'plain';
  if (options.color === false) return 'plain';
  return 'live';
}

export interface View {
  log(line: string): void;
  stop(options: StopOptions): void;
  stats(): Omit<DisplayStats, 'mode'>;
  /** Called on every phase and attach (the live view starts drawing). */
  activate(): void;
}

export const NO_PREVIEW_STATS: DisplayStats['preview'] = {
  received: 0,
  rendered: 0,
  dropped: 0,
  failed: 0,
  drawn: 0,
  protocol: 'off',
  decode: { count: 0, lastMs: 0, meanMs: 0, maxMs: 0 },
  encode: { count: 0, lastMs: 0, meanMs: 0, maxMs: 0 },
};

/** A display around `view`: the part of createDisplay that does not depend on how it draws. */
export function buildDisplay(mode: DisplayMode, model: ProgressModel, view: View, color: boolean): Display {
  let detachCurrent: (() => void) | undefined;
  let warningsShown = 0;

  model.subscribe((change) => {
    if (change === 'reset') warningsShown = 0;
    const warnings = model.state.warnings;
    while (warningsShown < warnings.length) {
      const warning = sanitize(warnings[warningsShown++] ?? '');
      view.log(mode === 'live' ? `${paint('yellow', '⚠', color)} ${warning}` : `Warning: ${warning}`);
    }
  });

  const display: Display = {
    mode,
    model,
    attach(job, attachOptions = {}) {
      detachCurrent?.();
      // A new job starts from scratch; a job right after `phase('connecting')` keeps that clock.
      const state = model.state;
      const otherLabel = attachOptions.label !== undefined && attachOptions.label !== state.label;
      if (isFinalPhase(state.phase) || state.promptId !== undefined || otherLabel) model.reset(attachOptions.label);
      const detach = follow(job, model);
      detachCurrent = detach;
      view.activate();
      return detach;
    },
    phase(phase, detail) {
      if (isFinalPhase(phase)) model.finish(phase as 'done' | 'failed' | 'cancelled', detail);
      else model.setPhase(phase, detail);
      view.activate();
    },
    log(line) {
      view.log(line);
    },
    warn(message) {
      model.warn(message);
    },
    stop(stopOptions = {}) {
      detachCurrent?.();
      detachCurrent = undefined;
      if (stopOptions.outcome && !isFinalPhase(model.state.phase)) {
        model.finish(stopOptions.outcome, stopOptions.message ? { text: stopOptions.message } : undefined);
      }
      view.stop(stopOptions);
    },
    stats() {
      return { mode, ...view.stats() };
    },
  };
  return display;
}

/** Feeds a job's events into the model until the job's result settles. */
function follow(job: JobSource, model: ProgressModel): () => void {
  const detach = subscribe<JobEvents>(job, {
    submitted: (info) => model.submitted(info),
    queued: (info) => model.queued(info),
    started: () => model.started(),
    cached: (info) => model.cached(info.nodes),
    node: (node) => model.node(node),
    progress: (info) => model.progress(info),
    overall: (info) => model.overall(info),
    preview: (info) => model.preview(info),
    connection: (info) => model.connection(info),
  });
  let following = true;
  const stop = (): void => {
    following = false;
    detach();
  };
  const ended = (): void => {
    if (!following) return;
    stop();
    model.runEnded();
  };
  job.result.then(ended, ended);
  return stop;
}


/**
 * The live view for a terminal: preview image on top, then what is happening, the step bar, the
 * node bar and the clock, redrawn in place about 12 times a second. It follows a ProgressModel
 * and draws previews through a PreviewPipeline, so a flood of frames costs a few renders a second.
 */
import spinners from 'cli-spinners';
import { LiveArea, type PreviewSlot } from './live-area.ts';
import { guardTerminal } from './exit-guard.ts';
import type { CellSize } from './preview/decode.ts';
import type { PreviewChoice } from './preview/detect.ts';
import { PreviewPipeline, type PreviewPipelineStats } from './preview/pipeline.ts';
import { createPreviewRenderer, type PreviewRenderer } from './preview/render.ts';
import type { ModelChange, ProgressModel } from './progress-model.ts';
import { STATUS_ROWS, statusLines, type StatusOptions } from './status-lines.ts';
import { textWidth } from './text.ts';

/** The parts of a tty.WriteStream the display uses; any object with `write` will do in tests. */
/** Sampler steps without a single preview frame before the display explains why. */
const MISSING_PREVIEW_STEPS = 3;

export interface TerminalStream {
  write(chunk: string): boolean;
  columns?: number;
  rows?: number;
  isTTY?: boolean;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface LiveDisplayOptions {
  stream: TerminalStream;
  model: ProgressModel;
  color: boolean;
  preview?: PreviewChoice;
  columns?: () => number;
  rows?: () => number;
  /** Largest preview, in rows (default 24) and columns (default: the terminal width). */
  maxPreviewRows?: number;
  maxPreviewCols?: number;
  /** A half-block preview is drawn at least this tall and cropped from the top when the terminal is shorter (default 8). */
  minPreviewRows?: number;
  /** Wrap each frame in synchronized-update sequences (default true; terminals without them ignore them). */
  synchronizedOutput?: boolean;
  /** Restore the terminal on exit and on unhandled SIGINT/SIGTERM (default true). */
  guardExit?: boolean;
  now?: () => number;
  /** Other text rows than a job's (e.g. a batch view): drawn below the preview, at most `rows` of them. */
  status?: { rows: number; lines(options: StatusOptions): string[] };
}

export interface LiveDisplayStats {
  /** Writes to the terminal (one per frame, log line or resize). */
  writes: number;
  bytes: number;
  preview: PreviewPipelineStats & { drawn: number; protocol: string };
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
// Without line wrap a row that is one column too wide is clipped instead of breaking the layout.
const WRAP_OFF = '\x1b[?7l';
const WRAP_ON = '\x1b[?7h';

export class LiveDisplay {
  private readonly options: LiveDisplayOptions;
  private readonly area: LiveArea;
  private readonly pipeline: PreviewPipeline | undefined;
  private readonly renderer: PreviewRenderer | undefined;
  private readonly now: () => number;
  private readonly spinner = spinners.dots;
  private preview: PreviewSlot | undefined;
  private previewSeen = false;
  private missingPreviewsTold = false;
  private previewVersion = 0;
  private lastDrawnVersion = 0;
  private drawn = 0;
  private writes = 0;
  private bytes = 0;
  private started = false;
  /** Mode changes that go out with the next frame, so that a frame stays one write. */
  private pendingPrefix = '';
  private ticker: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private lastFrameAt = 0;
  private removeGuard: (() => void) | undefined;
  private readonly unsubscribe: () => void;
  private readonly onResize = (): void => this.resize();

  constructor(options: LiveDisplayOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.area = new LiveArea({ synchronized: options.synchronizedOutput ?? true });
    const renderer = options.preview ? createPreviewRenderer(options.preview) : undefined;
    this.renderer = renderer;
    this.pipeline = renderer
      ? new PreviewPipeline({
          renderer,
          box: () => this.previewBox(),
          onRendered: (rendered) => {
            this.preview = { version: ++this.previewVersion, rendered };
            this.invalidate();
          },
        })
      : undefined;
    this.unsubscribe = options.model.subscribe((change) => this.onModelChange(change));
  }

  get isActive(): boolean {
    return this.started;
  }

  /** Takes over the bottom of the terminal: hides the cursor and starts redrawing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.pendingPrefix = HIDE_CURSOR + WRAP_OFF;
    if (this.options.guardExit ?? true) this.removeGuard = guardTerminal(() => this.restoreNow());
    this.options.stream.on?.('resize', this.onResize);
    this.ticker = setInterval(() => this.render(), this.spinner.interval).unref();
    this.render();
  }

  /** Asks for a frame soon (state changed); frames stay at most one per spinner interval. */
  invalidate(): void {
    if (!this.started || this.soon) return;
    if (this.now() - this.lastFrameAt < this.spinner.interval) return; // the ticker is due anyway
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.render();
    }).unref();
  }

  /** Prints a line above the live area without disturbing it. */
  log(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    if (!this.started) {
      this.write(text);
      return;
    }
    const { lines, widths } = this.statusRows();
    const update = this.area.print(WRAP_ON + text + WRAP_OFF, { preview: this.preview, lines, widths }, this.columns(), this.rows());
    this.afterUpdate(update.output, update.previewRows);
  }

  /** The terminal changed size: erase the old area as it now looks, redraw at the new size. */
  resize(): void {
    if (!this.started) return;
    this.area.reflow(this.columns());
    this.pipeline?.refit();
    this.render();
  }

  /**
   * Draws the final frame and gives the terminal back. `clear` erases the area instead;
   * `keepPreview: false` drops the image from the final frame; `lines` are printed below it.
   * The display can start again afterwards (next job).
   */
  stop(options: { clear?: boolean; keepPreview?: boolean; lines?: readonly string[] } = {}): void {
    const after = options.lines && options.lines.length > 0 ? `${options.lines.join('\n')}\n` : '';
    if (!this.started) {
      if (after) this.write(after);
      return;
    }
    if (options.keepPreview === false) this.preview = undefined;
    const { lines, widths } = this.statusRows();
    const final = options.clear ? { output: '', previewRows: 0 } : this.area.update({ preview: this.preview, lines, widths }, this.columns(), this.rows());
    const end = this.area.end({ clear: options.clear ?? false });
    this.countDrawn(final.previewRows);
    this.teardown();
    // The final frame stays in the scrollback as it is; the next job starts without an image.
    if (!options.clear && final.previewRows > 0) this.renderer?.detach?.();
    this.preview = undefined;
    this.pipeline?.clear();
    this.write(final.output + end + SHOW_CURSOR + WRAP_ON + after);
  }

  /** Stops following the model (the display is not used any more). */
  dispose(): void {
    this.stop();
    this.unsubscribe();
    this.pipeline?.close();
  }

  stats(): LiveDisplayStats {
    const pipeline = this.pipeline?.stats() ?? { received: 0, rendered: 0, dropped: 0, failed: 0, decode: emptyTiming(), encode: emptyTiming() };
    return {
      writes: this.writes,
      bytes: this.bytes,
      preview: { ...pipeline, drawn: this.drawn, protocol: this.options.preview?.protocol ?? 'off' },
    };
  }

  private onModelChange(change: ModelChange): void {
    const state = this.options.model.state;
    if (change === 'preview' && state.preview && this.pipeline) {
      this.previewSeen = true;
      this.pipeline.push({ mime: state.preview.mime, image: state.preview.image });
      return; // drawn when rendered
    }
    if (change === 'progress') this.noticeMissingPreviews(state.step?.value ?? 0);
    if (change === 'reset') {
      this.pipeline?.clear();
      this.preview = undefined;
    }
    this.invalidate();
  }

  /**
   * ComfyUI sends no preview frames unless it runs with a --preview-method: after a few sampler
   * steps without any, say so once instead of leaving an empty space.
   */
  private noticeMissingPreviews(step: number): void {
    if (!this.pipeline || this.previewSeen || this.missingPreviewsTold || step < MISSING_PREVIEW_STEPS) return;
    this.missingPreviewsTold = true;
    this.options.model.warn('No preview images arrive: ComfyUI sends them only when started with --preview-method (e.g. --preview-method auto).');
  }

  private columns(): number {
    return Math.max(1, Math.floor(this.options.columns?.() ?? this.options.stream.columns ?? 80));
  }

  private rows(): number {
    return Math.max(1, Math.floor(this.options.rows?.() ?? this.options.stream.rows ?? 24));
  }

  /** The space offered to the preview: the terminal above the status rows, within the limits. */
  private previewBox(): CellSize | undefined {
    const available = this.rows() - (this.options.status?.rows ?? STATUS_ROWS);
    const cols = Math.min(this.columns(), this.options.maxPreviewCols ?? Number.POSITIVE_INFINITY);
    const maxRows = this.options.maxPreviewRows ?? 24;
    if (this.options.preview?.protocol === 'blocks') {
      // Half blocks can be cropped: keep a useful size and let the top go when space is short.
      const rows = Math.min(maxRows, Math.max(this.options.minPreviewRows ?? 8, available));
      return available >= 1 && cols >= 1 ? { cols, rows } : undefined;
    }
    return available >= 2 && cols >= 2 ? { cols, rows: Math.min(maxRows, available) } : undefined;
  }

  private statusRows(): { lines: string[]; widths: number[] } {
    const options: StatusOptions = { width: this.columns(), color: this.options.color, timeMs: this.now(), spinner: this.spinner };
    const lines = this.options.status ? this.options.status.lines(options) : statusLines(this.options.model, options);
    return { lines, widths: lines.map((line) => textWidth(line)) };
  }

  private render(): void {
    if (!this.started) return;
    const { lines, widths } = this.statusRows();
    const update = this.area.update({ preview: this.preview, lines, widths }, this.columns(), this.rows());
    this.afterUpdate(update.output, update.previewRows);
  }

  private afterUpdate(output: string, previewRows: number): void {
    this.lastFrameAt = this.now();
    this.countDrawn(previewRows);
    if (output) this.write(output);
  }

  private countDrawn(previewRows: number): void {
    if (!this.preview || previewRows === 0 || this.preview.version === this.lastDrawnVersion) return;
    this.lastDrawnVersion = this.preview.version;
    this.drawn += 1;
  }

  private write(text: string): void {
    if (this.pendingPrefix) {
      text = this.pendingPrefix + text;
      this.pendingPrefix = '';
    }
    this.writes += 1;
    this.bytes += Buffer.byteLength(text);
    this.options.stream.write(text);
  }

  private teardown(): void {
    this.started = false;
    if (this.ticker) clearInterval(this.ticker);
    if (this.soon) clearImmediate(this.soon);
    this.ticker = undefined;
    this.soon = undefined;
    this.options.stream.off?.('resize', this.onResize);
    this.removeGuard?.();
    this.removeGuard = undefined;
  }

  /** On exit or an unhandled signal: no new frame, just leave the area and show the cursor. */
  private restoreNow(): void {
    if (!this.started) return;
    const end = this.area.end({ clear: false });
    this.teardown();
    this.pendingPrefix = '';
    this.write(end + SHOW_CURSOR + WRAP_ON);
  }
}

function emptyTiming(): PreviewPipelineStats['decode'] {
  return { count: 0, lastMs: 0, meanMs: 0, maxMs: 0 };
}

/**
 * Turns the stream of preview frames into at most a few drawings a second without ever holding
 * up the socket: only the newest waiting frame is kept (older ones are dropped unseen), decoding
 * and encoding run in their own turns of the event loop, and the pace adapts so rendering takes
 * at most about a third of the time.
 */
import { performance } from 'node:perf_hooks';
import type { ImageMime } from '../../client/binary.ts';
import type { CellSize } from './decode.ts';
import { decodeImage } from './decode.ts';
import type { PreviewInput, PreviewRenderer, RenderedPreview } from './render.ts';

export interface PreviewFrame {
  mime: ImageMime;
  image: Uint8Array;
}

export interface TimingStats {
  count: number;
  lastMs: number;
  meanMs: number;
  maxMs: number;
}

export interface PreviewPipelineStats {
  received: number;
  rendered: number;
  /** Replaced by a newer frame before it was rendered. */
  dropped: number;
  /** Could not be decoded or encoded. */
  failed: number;
  decode: TimingStats;
  encode: TimingStats;
}

export interface PreviewPipelineOptions {
  renderer: PreviewRenderer;
  /** The space offered to the image now, or undefined when there is none. */
  box: () => CellSize | undefined;
  onRendered: (preview: RenderedPreview) => void;
  onError?: (error: Error) => void;
  /** Minimum time between two renders (8 per second by default). */
  minIntervalMs?: number;
}

class Timing {
  count = 0;
  total = 0;
  last = 0;
  max = 0;

  add(ms: number): void {
    this.count += 1;
    this.total += ms;
    this.last = ms;
    this.max = Math.max(this.max, ms);
  }

  stats(): TimingStats {
    const round = (ms: number): number => Math.round(ms * 100) / 100;
    return { count: this.count, lastMs: round(this.last), meanMs: round(this.count ? this.total / this.count : 0), maxMs: round(this.max) };
  }
}

export class PreviewPipeline {
  private readonly options: PreviewPipelineOptions;
  private readonly minIntervalMs: number;
  private pending: PreviewFrame | undefined;
  private lastInput: PreviewInput | undefined;
  private refitWanted = false;
  private busy = false;
  private closed = false;
  private wake: { timeout: NodeJS.Timeout } | { immediate: NodeJS.Immediate } | undefined;
  private nextAllowedAt = 0;
  private counts = { received: 0, rendered: 0, dropped: 0, failed: 0 };
  private readonly decodeTiming = new Timing();
  private readonly encodeTiming = new Timing();

  constructor(options: PreviewPipelineOptions) {
    this.options = options;
    this.minIntervalMs = options.minIntervalMs ?? 125;
  }

  /** Takes a frame; cheap enough to call from a socket event handler. */
  push(frame: PreviewFrame): void {
    if (this.closed) return;
    this.counts.received += 1;
    if (this.pending) this.counts.dropped += 1;
    this.pending = frame;
    this.schedule();
  }

  /** The space changed (terminal resized): draw the last image again at the new size. */
  refit(): void {
    if (this.closed || !this.lastInput) return;
    this.refitWanted = true;
    this.nextAllowedAt = 0;
    this.schedule();
  }

  /** Forgets the current image (a new job starts). */
  clear(): void {
    if (this.pending) this.counts.dropped += 1;
    this.pending = undefined;
    this.lastInput = undefined;
    this.refitWanted = false;
  }

  close(): void {
    this.closed = true;
    this.pending = undefined;
    this.cancelWake();
  }

  stats(): PreviewPipelineStats {
    return { ...this.counts, decode: this.decodeTiming.stats(), encode: this.encodeTiming.stats() };
  }

  private schedule(): void {
    if (this.closed || this.busy || this.wake) return;
    if (!this.pending && !this.refitWanted) return;
    const delay = this.nextAllowedAt - performance.now();
    this.wake = delay > 1 ? { timeout: setTimeout(() => this.step(), delay).unref() } : { immediate: setImmediate(() => this.step()).unref() };
  }

  private cancelWake(): void {
    if (this.wake === undefined) return;
    if ('timeout' in this.wake) clearTimeout(this.wake.timeout);
    else clearImmediate(this.wake.immediate);
    this.wake = undefined;
  }

  private step(): void {
    this.wake = undefined;
    if (this.closed) return;
    const frame = this.pending;
    this.pending = undefined;
    const startedAt = performance.now();
    if (!frame) {
      if (this.refitWanted && this.lastInput) this.encode(this.lastInput, startedAt, 0);
      else this.refitWanted = false;
      return;
    }
    this.busy = true;
    let input: PreviewInput = { mime: frame.mime, bytes: frame.image };
    let decodeMs = 0;
    if (this.options.renderer.needsPixels(frame.mime)) {
      try {
        input = { ...input, pixels: decodeImage(frame.mime, frame.image) };
      } catch (error) {
        this.fail(error, startedAt, 0);
        return;
      }
      decodeMs = performance.now() - startedAt;
      this.decodeTiming.add(decodeMs);
    }
    // Encoding in a later turn lets socket events that arrived meanwhile through first.
    const immediate = setImmediate(() => {
      this.wake = undefined;
      if (this.closed) return;
      this.encode(input, startedAt, decodeMs);
    }).unref();
    this.wake = { immediate };
  }

  private encode(input: PreviewInput, startedAt: number, decodeMs: number): void {
    this.busy = true;
    this.refitWanted = false;
    const box = this.options.box();
    const encodeStart = performance.now();
    try {
      const rendered = box ? this.options.renderer.render(input, box) : undefined;
      this.lastInput = input;
      if (rendered) {
        this.encodeTiming.add(performance.now() - encodeStart);
        this.counts.rendered += 1;
        this.options.onRendered(rendered);
      }
    } catch (error) {
      this.fail(error, startedAt, decodeMs);
      return;
    }
    this.done(startedAt, decodeMs + (performance.now() - encodeStart));
  }

  private fail(error: unknown, startedAt: number, costMs: number): void {
    this.counts.failed += 1;
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    this.done(startedAt, costMs);
  }

  private done(startedAt: number, costMs: number): void {
    this.busy = false;
    this.nextAllowedAt = startedAt + Math.max(this.minIntervalMs, costMs * 3);
    this.schedule();
  }
}

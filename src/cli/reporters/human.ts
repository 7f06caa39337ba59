/**
 * Human output: the live display (or plain lines) on stderr while the job runs; the saved files
 * on stdout, so `pyros run … > files.txt` keeps them apart from the progress.
 */
import { readFileSync } from 'node:fs';
import { sniffImageMime } from '../../client/binary.ts';
import { maskSecrets } from '../../client/endpoint.ts';
import type { SavedFile } from '../../outputs/save.ts';
import type { Display, JobSource } from '../../ui/display-core.ts';
import type { Phase, PhaseDetail } from '../../ui/progress-model.ts';
import { describeStats, formatErrorBlock, savedFileLines, type ErrorBlock } from '../../ui/summary.ts';
import type { Reporter } from './reporter.ts';

export interface HumanReporterOptions {
  display: Display;
  /** Draws the first saved image once after the summary (`--show`). */
  show?: (image: Buffer) => void;
  color: boolean;
  verbose: boolean;
  secrets: readonly string[];
  out?: NodeJS.WriteStream;
}

export class HumanReporter implements Reporter {
  private readonly options: HumanReporterOptions;
  private readonly out: NodeJS.WriteStream;
  private readonly files: SavedFile[] = [];
  private stopped = false;
  /** Whether anything was shown as under way (a phase or a job): only then is there an outcome to tell. */
  private active = false;

  constructor(options: HumanReporterOptions) {
    this.options = options;
    this.out = options.out ?? process.stdout;
  }

  private mask(text: string): string {
    return maskSecrets(text, this.options.secrets);
  }

  note(message: string): void {
    this.options.display.log(this.mask(message));
  }

  debug(message: string): void {
    if (this.options.verbose) this.options.display.log(this.mask(message));
  }

  phase(phase: Phase, detail?: PhaseDetail): void {
    this.active = true;
    this.options.display.phase(phase, detail);
  }

  dispatched(info: { promptId: string; server: string; attempt: number }): void {
    this.note(`prompt ${info.promptId}`);
  }

  moved(info: { from: string; promptId: string; reason: string }): void {
    this.note(`moved off ${info.from} (prompt ${info.promptId}): ${info.reason}`);
  }

  follow(job: JobSource): void {
    this.active = true;
    this.options.display.attach(job);
    job.on('text', (info) => this.note(`text from "${info.node.title}": ${info.text}`));
    job.on('debug', (message) => this.debug(message));
  }

  saved(file: SavedFile): void {
    this.files.push(file);
  }

  private stop(outcome: 'done' | 'failed' | 'cancelled', lines: string[]): void {
    if (this.stopped) return;
    this.stopped = true;
    const stats = this.options.verbose && this.active ? [describeStats(this.options.display.stats())] : [];
    this.options.display.stop(this.active ? { outcome, lines: [...lines, ...stats] } : { lines });
  }

  result(lines: string[]): void {
    this.stop('done', []);
    const color = this.options.color && Boolean(this.out.isTTY);
    const files = this.files.map((file) => ({ path: file.path, size: file.bytes, head: file.head }));
    for (const line of [...savedFileLines(files, { color }), ...lines]) this.out.write(`${this.mask(line)}\n`);
    const image = this.files.findLast((file) => sniffImageMime(file.head) !== undefined);
    if (this.options.show && image) this.options.show(readFileSync(image.path));
  }

  error(block: ErrorBlock, data: Record<string, unknown>): void {
    const color = this.options.color && this.options.display.mode === 'live';
    const saved = savedFileLines(this.files.map((file) => ({ path: file.path, size: file.bytes, head: file.head })), { color });
    this.stop(data.kind === 'cancelled' ? 'cancelled' : 'failed', [...saved, ...formatErrorBlock(block, { color })].map((line) => this.mask(line)));
  }

  close(): void {
    this.stop('done', []);
  }
}

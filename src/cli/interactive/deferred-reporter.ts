/**
 * A reporter that holds everything back until its job's turn on the display.
 *
 * Jobs go to the server as soon as they are typed (the server queues them in order), but the
 * display follows one job at a time. Each job gets a DeferredReporter: until `activate()` it
 * records, in order, the reporter calls of the pipeline (`startJob`) and every event of its job;
 * `activate()` plays them back into the real reporter, then passes everything straight through.
 */
import { EventEmitter } from 'node:events';
import type { JobEvents } from '../../client/job.ts';
import type { JobSource } from '../../ui/display-core.ts';
import type { SavedFile } from '../../outputs/save.ts';
import type { Phase, PhaseDetail } from '../../ui/progress-model.ts';
import type { ErrorBlock } from '../../ui/summary.ts';
import type { Reporter } from '../reporters/reporter.ts';

const JOB_EVENTS: readonly (keyof JobEvents)[] = ['uploaded', 'submitted', 'queued', 'started', 'cached', 'node', 'progress', 'overall', 'preview', 'executed', 'text', 'connection', 'debug'];

type Step = { run: () => void; settles?: boolean; preview?: boolean };

/** Stands in for the Job in the real reporter: the same events, emitted when played back. */
class ReplayedJob extends EventEmitter<JobEvents> {
  readonly result: Promise<unknown>;
  settle!: () => void;
  private readonly job: JobSource;

  get promptId(): string {
    return this.job.promptId;
  }

  constructor(job: JobSource) {
    super();
    this.job = job;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.settle = release;
    // Settles like the job's result, but only once the playback has reached the end of the run.
    this.result = released.then(() => job.result);
    this.result.catch(() => undefined);
  }
}

export class DeferredReporter implements Reporter {
  private readonly inner: Reporter;
  private steps: Step[] | undefined = [];
  private activation: Promise<void> | undefined;

  constructor(inner: Reporter) {
    this.inner = inner;
  }

  get active(): boolean {
    return this.steps === undefined;
  }

  private push(step: Step): void {
    if (!this.steps) {
      step.run();
      return;
    }
    if (step.preview) {
      // Only the newest preview is worth showing: drop the one still waiting.
      const index = this.steps.findLastIndex((s) => s.preview);
      if (index >= 0) this.steps.splice(index, 1);
    }
    this.steps.push(step);
  }

  note(message: string, data?: Record<string, unknown>): void {
    this.push({ run: () => this.inner.note(message, data) });
  }

  debug(message: string): void {
    this.push({ run: () => this.inner.debug(message) });
  }

  phase(phase: Phase, detail?: PhaseDetail): void {
    this.push({ run: () => this.inner.phase(phase, detail) });
  }

  dispatched(info: { promptId: string; server: string; attempt: number }): void {
    this.push({ run: () => this.inner.dispatched(info) });
  }

  moved(info: { from: string; promptId: string; reason: string }): void {
    this.push({ run: () => this.inner.moved(info) });
  }

  follow(job: JobSource): void {
    const replayed = new ReplayedJob(job);
    this.push({ run: () => this.inner.follow(replayed) });
    for (const name of JOB_EVENTS) {
      job.on(name, ((...args: unknown[]) => {
        this.push({ run: () => (replayed.emit as (event: string, ...rest: unknown[]) => boolean)(name, ...args), preview: name === 'preview' });
      }) as never);
    }
    const ended = (): void => this.push({ run: () => replayed.settle(), settles: true });
    job.result.then(ended, ended);
  }

  saved(file: SavedFile): void {
    this.push({ run: () => this.inner.saved(file) });
  }

  result(lines: string[], data: Record<string, unknown>): void {
    this.push({ run: () => this.inner.result(lines, data) });
  }

  error(block: ErrorBlock, data: Record<string, unknown>): void {
    this.push({ run: () => this.inner.error(block, data) });
  }

  close(): void {
    this.push({ run: () => this.inner.close() });
  }

  /** Plays back what was recorded, in order, then lets everything through. */
  activate(): Promise<void> {
    this.activation ??= this.playBack();
    return this.activation;
  }

  private async playBack(): Promise<void> {
    const steps = this.steps ?? [];
    while (steps.length > 0) {
      const step = steps.shift() as Step;
      step.run();
      // Whoever awaits the job's result (the display) hears of it before the next step.
      if (step.settles) await new Promise((resolve) => setImmediate(resolve));
    }
    this.steps = undefined;
  }
}

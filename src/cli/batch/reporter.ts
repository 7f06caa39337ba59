/** What a batch tells the person (the batch view on stderr, a summary on stdout) or the script (`--json`). */
import { maskSecrets } from '../../client/endpoint.ts';
import type { PoolAttempt, PoolJob, PoolServerInfo } from '../../client/pool.ts';
import type { SavedFile } from '../../outputs/save.ts';
import type { BatchDisplay } from '../../ui/batch/view.ts';
import type { JobSource } from '../../ui/index.ts';
import { formatErrorBlock, type ErrorBlock } from '../../ui/summary.ts';
import { paint } from '../../ui/text.ts';
import type { BatchItem } from './expand.ts';

export interface JobOutcome {
  item: BatchItem;
  ok: boolean;
  /** The server that ran it (or failed it). */
  server: string | undefined;
  promptId: string;
  files: SavedFile[];
  attempts: PoolAttempt[];
  texts: string[];
  /** For a failure: what happened, in the error block's words and as the JSON error object. */
  error?: { block: ErrorBlock; event: Record<string, unknown>; kind: string };
}

export interface BatchReporter {
  note(message: string, data?: Record<string, unknown>): void;
  debug(message: string): void;
  start(info: { total: number; servers: string[]; seeds: string; prompts: number; count: number }): void;
  server(info: PoolServerInfo): void;
  follow(job: PoolJob, item: BatchItem): void;
  saving(item: BatchItem): void;
  saved(item: BatchItem, file: SavedFile, server: string): void;
  finished(outcome: JobOutcome): void;
  /** The end of the batch: human summary lines and the JSON result object. */
  summary(lines: string[], data: Record<string, unknown>): void;
  /** A failure of the whole batch (before any job ran). */
  error(block: ErrorBlock, data: Record<string, unknown>): void;
  close(): void;
}

function label(item: BatchItem, total: number): string {
  return `${item.index + 1}/${total}`;
}

function shortHost(server: string | undefined): string {
  return (server ?? '-').replace(/^http:\/\//, '');
}

/** The batch view on stderr while it runs; the summary (one row per job, then totals) on stdout. */
export class HumanBatchReporter implements BatchReporter {
  private display: BatchDisplay | undefined;
  private readonly createDisplay: (total: number, servers: string[]) => BatchDisplay;
  private readonly verbose: boolean;
  private readonly secrets: readonly string[];
  private readonly color: boolean;
  private readonly out: NodeJS.WriteStream;
  private readonly early: string[] = [];
  private total = 0;
  private stopped = false;

  constructor(options: { createDisplay: (total: number, servers: string[]) => BatchDisplay; verbose: boolean; secrets: readonly string[]; color: boolean; out?: NodeJS.WriteStream }) {
    this.createDisplay = options.createDisplay;
    this.verbose = options.verbose;
    this.secrets = options.secrets;
    this.color = options.color;
    this.out = options.out ?? process.stdout;
  }

  private mask(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  private get live(): boolean {
    return this.color && this.display?.mode === 'live';
  }

  private log(line: string): void {
    if (this.display) this.display.log(this.mask(line));
    else process.stderr.write(`${this.mask(line)}\n`);
  }

  note(message: string): void {
    this.log(message);
  }

  debug(message: string): void {
    if (this.verbose) this.log(message);
  }

  start(info: { total: number; servers: string[] }): void {
    this.total = info.total;
    this.display = this.createDisplay(info.total, info.servers);
    for (const line of this.early.splice(0)) this.log(line);
  }

  server(info: PoolServerInfo): void {
    this.display?.model.server({ ...info, reason: info.reason === undefined ? undefined : this.mask(info.reason) });
  }

  follow(job: PoolJob, item: BatchItem): void {
    const display = this.display;
    if (!display) return;
    job.on('dispatched', (info) => display.model.dispatched(item.index, info.server));
    job.on('moved', (info) => {
      display.model.moved(item.index);
      this.log(`↻ [${label(item, this.total)}] moved off ${shortHost(info.from)}: ${info.reason}`);
    });
    job.on('debug', (message) => this.debug(`[${label(item, this.total)}] ${message}`));
    // A PoolJob emits every Job event; its emitter type only adds its own.
    display.attach(job as unknown as JobSource, item.index);
  }

  saving(item: BatchItem): void {
    this.display?.model.saving(item.index);
  }

  saved(): void {}

  finished(outcome: JobOutcome): void {
    this.display?.model.finished(outcome.item.index, outcome.ok);
    const where = shortHost(outcome.server);
    const seed = outcome.item.seed === undefined ? '' : ` · seed ${outcome.item.seed}`;
    if (outcome.ok) {
      const first = outcome.files[0]?.path ?? 'no file';
      const more = outcome.files.length > 1 ? ` (+${outcome.files.length - 1})` : '';
      this.log(`${paint('green', '✔', this.live)} [${label(outcome.item, this.total)}] ${where}${seed} → ${first}${more}`);
    } else {
      this.log(`${paint('red', '✖', this.live)} [${label(outcome.item, this.total)}] ${where}${seed}: ${outcome.error?.block.title ?? 'failed'}`);
    }
  }

  summary(lines: string[]): void {
    this.stop();
    for (const line of lines) this.out.write(`${this.mask(line)}\n`);
  }

  error(block: ErrorBlock): void {
    const lines = formatErrorBlock(block, { color: this.color && Boolean(process.stderr.isTTY) }).map((line) => this.mask(line));
    if (this.display) {
      this.stop(lines);
      return;
    }
    for (const line of lines) process.stderr.write(`${line}\n`);
  }

  private stop(lines: string[] = []): void {
    if (this.stopped) return;
    this.stopped = true;
    this.display?.stop({ lines });
  }

  close(): void {
    this.stop();
  }
}

/** `--json`: every event of every job, with the job number and the server that runs it. */
export class JsonBatchReporter implements BatchReporter {
  private readonly serverStates = new Map<string, string>();
  private readonly out: NodeJS.WritableStream;
  private readonly secrets: readonly string[];
  private readonly verbose: boolean;

  constructor(options: { out?: NodeJS.WritableStream; secrets: readonly string[]; verbose: boolean }) {
    this.out = options.out ?? process.stdout;
    this.secrets = options.secrets;
    this.verbose = options.verbose;
  }

  emit(event: string, data: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ event, time: new Date().toISOString(), ...data });
    this.out.write(`${maskSecrets(line, this.secrets)}\n`);
  }

  note(message: string, data: Record<string, unknown> = {}): void {
    this.emit('note', { message, ...data });
  }

  debug(message: string): void {
    if (this.verbose) process.stderr.write(`${maskSecrets(message, this.secrets)}\n`);
  }

  start(info: { total: number; servers: string[]; seeds: string; prompts: number; count: number }): void {
    this.emit('batch', { total: info.total, servers: info.servers, seeds: info.seeds, prompts: info.prompts, count: info.count });
  }

  server(info: PoolServerInfo): void {
    // The pool reports every change of load too; a script wants the changes of state.
    const key = `${info.state}\0${info.reason ?? ''}`;
    if (this.serverStates.get(info.server) === key) return;
    this.serverStates.set(info.server, key);
    this.emit('server', { server: info.server, state: info.state, reason: info.reason, retry_in_ms: info.retryInMs, jobs: info.jobs, remaining: info.remaining });
  }

  follow(job: PoolJob, item: BatchItem): void {
    const n = item.index + 1;
    const on = (event: string, data: Record<string, unknown> = {}): void => this.emit(event, { job: n, server: job.server ?? null, ...data });
    job.on('dispatched', (info) => on('dispatched', { prompt_id: info.promptId, attempt: info.attempt, seed: item.seed }));
    job.on('moved', (info) => this.emit('moved', { job: n, server: info.from, prompt_id: info.promptId, reason: info.reason }));
    job.on('submitted', (info) => on('submitted', { prompt_id: info.promptId, number: info.number, warnings: info.warnings }));
    job.on('queued', (info) => on('queued', { ...info }));
    job.on('started', () => on('started', { prompt_id: job.promptId }));
    job.on('cached', (info) => on('cached', { nodes: info.nodes.map((node) => node.nodeId) }));
    job.on('node', (node) => on('node', { node_id: node.nodeId, title: node.title, class_type: node.classType }));
    job.on('progress', (info) => on('progress', { node_id: info.node.nodeId, value: info.value, max: info.max }));
    job.on('overall', (info) => on('overall', { ...info }));
    job.on('preview', (info) => on('preview', { mime: info.mime, bytes: info.image.length, node_id: info.node?.nodeId }));
    job.on('text', (info) => on('text', { node_id: info.node.nodeId, text: info.text }));
    job.on('connection', (info) => {
      if (info.state !== 'checking') on('connection', { ...info });
    });
    job.on('debug', (message) => this.debug(`[job ${n}] ${message}`));
  }

  saving(): void {}

  saved(item: BatchItem, file: SavedFile, server: string): void {
    this.emit('saved', { job: item.index + 1, server, path: file.path, bytes: file.bytes, node_id: file.nodeId, server_name: file.serverName, sidecars: file.sidecars });
  }

  finished(outcome: JobOutcome): void {
    const base = { job: outcome.item.index + 1, server: outcome.server ?? null, prompt_id: outcome.promptId, seed: outcome.item.seed, prompt: outcome.item.prompt };
    if (outcome.ok) {
      this.emit('job_done', { ...base, files: outcome.files.map((file) => file.path), attempts: outcome.attempts });
    } else {
      const { event: _event, time: _time, ...error } = outcome.error?.event ?? {};
      this.emit('job_failed', { ...base, ...error, attempts: outcome.attempts });
    }
  }

  summary(_lines: string[], data: Record<string, unknown>): void {
    this.emit('result', data);
  }

  error(_block: ErrorBlock, data: Record<string, unknown>): void {
    this.out.write(`${maskSecrets(JSON.stringify({ ...data, time: new Date().toISOString() }), this.secrets)}\n`);
  }

  close(): void {}
}

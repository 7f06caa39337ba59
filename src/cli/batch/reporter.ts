/** What a batch tells the person (the batch view on stderr, a summary on stdout) or the script (`--json`). */
import { maskSecrets } from '../../client/endpoint.ts';
import type { PoolServerInfo } from '../../client/pool.ts';
import type { JobOutcome, JobSpec, PipelineJob } from '../../pipeline/index.ts';
import type { BatchDisplay } from '../../ui/batch/view.ts';
import { formatErrorBlock, type ErrorBlock } from '../../ui/summary.ts';
import { paint } from '../../ui/text.ts';
import { JsonReporter } from '../reporters/json.ts';
import { BufferedWriter } from './buffered-writer.ts';
import type { BatchSummary } from './summary.ts';
import { narrateJob, runSource } from '../reporters/narrate.ts';

/** A finished job with its failure in words (for the line, the summary and --json). */
export interface JobEnd {
  outcome: JobOutcome;
  spec: JobSpec;
  error?: { block: ErrorBlock; event: Record<string, unknown>; kind: string };
}

export interface BatchReporter {
  note(message: string, data?: Record<string, unknown>): void;
  debug(message: string): void;
  start(info: { total: number; servers: string[]; seeds: string; prompts: number; count: number }): void;
  server(info: PoolServerInfo): void;
  follow(job: PipelineJob, spec: JobSpec): void;
  finished(end: JobEnd): void;
  /** The end of the batch: the summary table (or the JSON result), written as it is read. */
  summary(summary: BatchSummary): Promise<void>;
  /** A failure of the whole batch (before any job ran). */
  error(block: ErrorBlock, data: Record<string, unknown>): void;
  close(): void;
}

function label(spec: JobSpec, total: number): string {
  return `${spec.index + 1}/${total}`;
}

export function shortHost(server: string | undefined): string {
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
  }

  server(info: PoolServerInfo): void {
    this.display?.model.server({ ...info, reason: info.reason === undefined ? undefined : this.mask(info.reason) });
  }

  follow(job: PipelineJob, spec: JobSpec): void {
    const display = this.display;
    if (!display) return;
    const at = `[${label(spec, this.total)}]`;
    job.on('dispatched', (info) => display.model.dispatched(spec.index, info.server));
    job.on('moved', (info) => {
      display.model.moved(spec.index);
      this.log(`↻ ${at} moved off ${shortHost(info.from)}: ${info.reason}`);
    });
    job.on('retrying', (info) => this.log(`↻ ${at} resubmitting in ${(info.delayMs / 1000).toFixed(1)} s (retry ${info.attempt} of ${info.retries}): ${(info.error as Error).message}`));
    job.on('uploaded', (upload) => {
      if (!upload.reused) this.debug(`${at} input ${upload.path} → #${upload.nodeId}.${upload.input} (uploaded as ${upload.name})`);
    });
    job.on('prepared', (prepared) => {
      if (prepared.expansion) this.debug(`${at} prompt: ${prepared.expansion.text}`);
    });
    job.on('saving', () => display.model.saving(spec.index));
    job.on('debug', (message) => this.debug(`${at} ${message}`));
    display.attach(runSource(job), spec.index);
  }

  finished(end: JobEnd): void {
    const { outcome, spec } = end;
    this.display?.model.finished(spec.index, outcome.ok);
    const where = shortHost(outcome.server);
    const seed = spec.seed === undefined ? '' : ` · seed ${spec.seed}`;
    if (outcome.ok) {
      const first = outcome.files[0]?.path ?? 'no file';
      const more = outcome.files.length > 1 ? ` (+${outcome.files.length - 1})` : '';
      this.log(`${paint('green', '✔', this.live)} [${label(spec, this.total)}] ${where}${seed} → ${first}${more}`);
    } else {
      this.log(`${paint('red', '✖', this.live)} [${label(spec, this.total)}] ${where}${seed}: ${end.error?.block.title ?? 'failed'}`);
      // What the server said per node (a rejection), and what to do, as for a single run.
      for (const line of end.error?.block.details ?? []) this.log(`    ${line}`);
      if (end.error?.block.hint) this.log(`    hint: ${end.error.block.hint}`);
    }
  }

  async summary(summary: BatchSummary): Promise<void> {
    this.stop();
    const out = new BufferedWriter(this.out);
    for await (const line of summary.lines()) await out.write(`${this.mask(line)}\n`);
    await out.flush();
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

/** `--json`: every event of every job (as `pyros run` prints for one), with its job number and server. */
export class JsonBatchReporter implements BatchReporter {
  private readonly serverStates = new Map<string, string>();
  private readonly out: NodeJS.WritableStream;
  private readonly secrets: readonly string[];
  private readonly verbose: boolean;
  private readonly batch: JsonReporter;

  constructor(options: { out?: NodeJS.WritableStream; secrets: readonly string[]; verbose: boolean }) {
    this.out = options.out ?? process.stdout;
    this.secrets = options.secrets;
    this.verbose = options.verbose;
    this.batch = new JsonReporter({ out: this.out, secrets: this.secrets, verbose: this.verbose });
  }

  note(message: string, data: Record<string, unknown> = {}): void {
    this.batch.note(message, data);
  }

  debug(message: string): void {
    this.batch.debug(message);
  }

  start(info: { total: number; servers: string[]; seeds: string; prompts: number; count: number }): void {
    this.batch.emit('batch', { total: info.total, servers: info.servers, seeds: info.seeds, prompts: info.prompts, count: info.count });
  }

  server(info: PoolServerInfo): void {
    // The pool reports every change of load too; a script wants the changes of state.
    const key = `${info.state}\0${info.reason ?? ''}`;
    if (this.serverStates.get(info.server) === key) return;
    this.serverStates.set(info.server, key);
    this.batch.emit('server', { server: info.server, state: info.state, reason: info.reason, retry_in_ms: info.retryInMs, jobs: info.jobs, remaining: info.remaining });
  }

  follow(job: PipelineJob, spec: JobSpec): void {
    const reporter = new JsonReporter({ out: this.out, secrets: this.secrets, verbose: this.verbose, extra: { job: spec.index + 1, server: null } });
    narrateJob(job, reporter, { patches: () => undefined });
  }

  finished(end: JobEnd): void {
    const { outcome, spec } = end;
    const base = { job: spec.index + 1, server: outcome.server ?? null, prompt_id: outcome.promptId, seed: spec.seed, prompt: outcome.record?.prompt?.text ?? spec.prompt };
    if (outcome.ok) {
      this.batch.emit('job_done', { ...base, files: outcome.files.map((file) => file.path), attempts: outcome.attempts });
    } else {
      const { event: _event, time: _time, ...error } = end.error?.event ?? {};
      this.batch.emit('job_failed', { ...base, ...error, attempts: outcome.attempts });
    }
  }

  /** The result object, its `jobs` written one at a time (never all in memory). */
  async summary(summary: BatchSummary): Promise<void> {
    const mask = (text: string): string => maskSecrets(text, this.secrets);
    const out = new BufferedWriter(this.out);
    const head = JSON.stringify({ event: 'result', time: new Date().toISOString(), ...summary.head });
    await out.write(`${mask(head.slice(0, -1))},"jobs":[`);
    let first = true;
    for await (const job of summary.jobs()) {
      await out.write(`${first ? '' : ','}${mask(JSON.stringify(job))}`);
      first = false;
    }
    const tail = JSON.stringify(summary.tail);
    await out.write(`]${tail === '{}' ? '}' : `,${mask(tail.slice(1))}`}\n`);
    await out.flush();
  }

  error(block: ErrorBlock, data: Record<string, unknown>): void {
    this.batch.error(block, data);
  }

  close(): void {}
}

/**
 * The state of an interactive session (workflow, server, seed mode, count, sticky `/set`s, the
 * last image) and what each command does with it. Terminal-agnostic: it prints through `io`,
 * so the same session serves the readline loop and piped input.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { extname, relative, resolve } from 'node:path';
import type { Client } from '../../client/client.ts';
import type { ApiWorkflow } from '../../client/types.ts';
import { isPyrosError, PyrosError } from '../../errors.ts';
import { CliError } from '../errors/cli-error.ts';
import { describeInput, loadWorkflow, parseSeed, randomSeed } from '../../workflow/index.ts';
import { explain } from '../errors/explain.ts';
import { parseSetArg, resolveTargetArg } from '../set-args.ts';
import type { FileConfig } from '../config.ts';
import { parseDuration } from '../durations.ts';
import { openInViewer } from '../open-file.ts';
import { planWithVariables, reportExpansion, variableDirsFor } from '../prompt-variables.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { planJob, reportPatches, resolveRunSettings, type RunSettings, type RunSettingsFlags } from '../run-plan.ts';
import { clientFor, secretsOf, type CommonFlags, type ConnectionSettings } from '../settings.ts';
import { planUploads, splitFileSets, uploadInputs, type PendingUpload } from '../uploads.ts';
import { JobQueue, type QueuedJob } from './job-queue.ts';
import { truncate } from '../../ui/text.ts';
import { listVariables, type Expansion, type VariableInfo } from '../../vars/index.ts';

export interface InteractiveFlags extends CommonFlags, RunSettingsFlags {
  workflow?: string;
  preview?: string;
  vars?: string;
  count?: string;
  /** Images to upload into the workflow's image loaders (`--input`, as for `pyros run`). */
  input?: string[];
}

export type SeedMode = { kind: 'random' } | { kind: 'fixed'; value: number } | { kind: 'keep' };

export interface SessionIO {
  /** A line (or lines) for the person. */
  print(text: string): void;
  /** The reporter that shows one job (display, or JSON lines). */
  reporterFor(job: { number: number; label: string }): Reporter;
  /** Draws an image file in the terminal; false when it cannot. */
  showImage(bytes: Uint8Array): boolean;
  color: boolean;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif']);
const MAX_COUNT = 100;

export interface GalleryHandle {
  url: string;
  close(): Promise<void>;
}

export interface SessionOptions {
  flags: InteractiveFlags;
  config: FileConfig;
  connection: ConnectionSettings;
  secrets: string[];
  io: SessionIO;
  env?: NodeJS.ProcessEnv;
  /** Fail when no workflow is given (otherwise /workflow loads one later). */
  requireWorkflow?: boolean;
  /** Starts the gallery of a folder (loaded lazily by the caller). */
  startGallery?: (dir: string) => Promise<GalleryHandle>;
}

export class Session {
  readonly queue: JobQueue;
  private readonly options: SessionOptions;
  private readonly io: SessionIO;
  private settings: RunSettings;
  private workflow: ApiWorkflow | undefined;
  private client: Client;
  private readonly requestTimeoutMs: number | undefined;
  private readonly retired = new Set<Client>();
  private seedMode: SeedMode;
  private lastSeed: number | undefined;
  private count: number;
  /** Sticky `/set`s by `nodeId.input`, as typed. */
  private readonly sticky = new Map<string, string>();
  private lastImagePath: string | undefined;
  /** `--set NODE.INPUT=@FILE` from the command line and the config file: uploaded, not set as text. */
  private baseFiles: string[] = [];
  /** What each client has already uploaded: `path|size|mtime|node.input` → the value to set. */
  private readonly uploaded = new Map<Client, Map<string, string>>();
  private patchesKey = '';
  private gallery: GalleryHandle | undefined;

  private constructor(options: SessionOptions, settings: RunSettings, server: string) {
    this.options = options;
    this.io = options.io;
    this.settings = settings;
    const { flags } = options;
    this.requestTimeoutMs = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : undefined;
    this.client = clientFor(options.connection, server, this.requestTimeoutMs);
    this.seedMode = flags.seed === undefined ? { kind: 'random' } : parseSeedMode(flags.seed);
    this.count = flags.count === undefined ? 1 : parseCount(flags.count);
    this.queue = new JobQueue({
      verbose: Boolean(flags.verbose),
      secrets: options.secrets,
      onFinished: (entry, outcome) => this.finished(entry, outcome),
    });
  }

  /** Builds the session from flags and config; a bad workflow file is an error, a missing one is not. */
  static async create(options: SessionOptions): Promise<Session> {
    const env = options.env ?? process.env;
    const { flags, config, connection } = options;
    const workflowPath = flags.workflow ?? env.PYROS_WORKFLOW ?? config.workflow ?? '';
    // Without a workflow, piped input fails at once; a person at the prompt can load one with /workflow.
    const settings = resolveRunSettings(workflowPath === '' && !options.requireWorkflow ? '-' : workflowPath || undefined, flags, config, env);
    if (workflowPath === '') settings.workflowPath = '';
    const [server, ...others] = connection.servers;
    if (!server) throw new PyrosError('usage', 'No server given.');
    const { values, files } = splitFileSets(settings.sets);
    settings.sets = values;
    const session = new Session(options, settings, server);
    session.baseFiles = files;
    if (others.length > 0) session.io.print(`Interactive mode uses one server: ${session.client.endpoint.display} (switch with /server URL).`);
    if (workflowPath !== '') session.workflow = await loadWorkflow(workflowPath);
    // Fail early on sets and files that do not fit the workflow (they would fail every job).
    if (session.workflow) {
      planJob(session.workflow, settings, {});
      await planUploads(session.workflow, flags.input ?? [], files);
    } else if ((flags.input?.length ?? 0) > 0 || files.length > 0) {
      throw new CliError('usage', 'Files to upload (--input, --set NODE.INPUT=@FILE) need a workflow.', { hint: 'Give one with --workflow FILE.' });
    }
    // A --vars folder that does not exist is an error now, not at the first prompt.
    session.variableDirs();
    return session;
  }

  get hasWorkflow(): boolean {
    return this.workflow !== undefined;
  }

  /** Every `NODE.INPUT` a `/set` can name, for completion: titles and ids. */
  get workflowGraph(): ApiWorkflow | undefined {
    return this.workflow;
  }

  get stickyTargets(): string[] {
    return [...this.sticky.values()].map((text) => text.slice(0, text.indexOf('=')));
  }

  get outputDir(): string {
    return this.settings.outputDir;
  }

  describeState(): string {
    const seed = this.seedMode.kind === 'fixed' ? String(this.seedMode.value) : this.seedMode.kind;
    const workflow = this.workflow ? relativePath(this.settings.workflowPath) : '(none: /workflow FILE)';
    return `workflow ${workflow} · server ${this.client.endpoint.display}\nseed ${seed} · count ${this.count} · output ${relativePath(this.settings.outputDir)}`;
  }

  print(text: string): void {
    this.io.print(text);
  }

  /** Prints a failure as one line: what happened, and what to do. */
  fail(error: unknown): void {
    if (isPyrosError(error)) {
      const { title, hint } = explain(error);
      this.io.print(`${mark('✖', 'red', this.io.color)} ${title}${hint ? ` ${hint}` : ''}`);
    } else {
      this.io.print(`${mark('✖', 'red', this.io.color)} unexpected failure: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Enter: the prompt goes to the server `count` times (each with its seed); returns the jobs. */
  async runPrompt(text: string): Promise<QueuedJob[]> {
    const workflow = this.workflow;
    if (!workflow) {
      throw new CliError('usage', 'No workflow loaded.', { hint: 'Load one with /workflow FILE (an API-format workflow exported from ComfyUI), or start with --workflow FILE.' });
    }
    const sticky = splitFileSets([...this.sticky.values()]);
    const uploads = await planUploads(workflow, this.options.flags.input ?? [], [...this.baseFiles, ...sticky.files]);
    // Images are uploaded once per server (again when a file changes), before the jobs that use them.
    const client = this.client;
    const uploaded = await this.upload(client, workflow, uploads);
    const sets = [...sticky.values, ...uploaded.map((u) => `${u.nodeId}.${u.input}=${JSON.stringify(u.value)}`)];
    const first = this.firstSeed();
    const jobs: QueuedJob[] = [];
    const ahead = this.queue.size;
    for (let i = 0; i < this.count; i++) {
      // Random: a new seed for every job; fixed or kept: that seed, then the next ones.
      const seed = i === 0 ? first : this.seedMode.kind === 'random' ? randomSeed() : first === undefined ? undefined : first + i;
      // The run pipeline: variables are expanded with the job's seed (the workflow's own when none is set).
      const { plan, expansion } = await planWithVariables(workflow, this.settings, { prompt: text, seed, sets }, () => this.variableDirs());
      if (i === 0) this.lastSeed = plan.patched.applied.seeds[0]?.value ?? seed;
      if (uploaded.length > 0) plan.metadata = { ...plan.metadata, inputs: uploaded.map((u) => ({ path: resolve(u.path), node_id: u.nodeId, input: u.input, value: u.value })) };
      const entry = this.queue.submit(client, plan, (job) => this.io.reporterFor(job), (reporter) => this.announce(reporter, plan, expansion));
      jobs.push(entry);
    }
    if (ahead > 0) {
      const numbers = jobs.map((job) => job.number);
      const names = numbers.length === 1 ? `job ${numbers[0]}` : `jobs ${numbers[0]}–${numbers.at(-1)}`;
      this.io.print(`${names} queued (${ahead} ahead)`);
    }
    return jobs;
  }

  private async upload(client: Client, workflow: ApiWorkflow, uploads: PendingUpload[]): Promise<(PendingUpload & { value: string })[]> {
    if (uploads.length === 0) return [];
    const cache = this.uploaded.get(client) ?? new Map<string, string>();
    this.uploaded.set(client, cache);
    const keyed = await Promise.all(
      uploads.map(async (upload) => {
        const info = await stat(upload.path).catch(() => undefined);
        return { upload, key: `${resolve(upload.path)}|${info?.size}|${info?.mtimeMs}|${upload.nodeId}.${upload.input}` };
      }),
    );
    const missing = keyed.filter(({ key }) => !cache.has(key));
    if (missing.length > 0) {
      const notes: Reporter = { note: (message) => this.io.print(message), debug: () => undefined, phase: () => undefined, follow: () => undefined, saved: () => undefined, result: () => undefined, error: () => undefined, close: () => undefined };
      const done = await uploadInputs(client, planJob(workflow, this.settings, {}), missing.map((m) => m.upload), notes);
      done.forEach((result, index) => cache.set(missing[index]?.key ?? '', result.value));
    }
    return keyed.map(({ upload, key }) => ({ ...upload, value: cache.get(key) ?? '' }));
  }

  /** The patches in full when they differ from the last job's, else one short line. */
  private announce(reporter: Reporter, plan: ReturnType<typeof planJob>, expansion: Expansion | undefined): void {
    const { applied } = plan.patched;
    const key = JSON.stringify([applied.prompt && [applied.prompt.nodeId, applied.prompt.input], applied.seeds.map((s) => [s.nodeId, s.input]), applied.sets, plan.patched.notes]);
    if (key !== this.patchesKey) {
      this.patchesKey = key;
      reportPatches(reporter, plan.patched);
    } else {
      const seeds = [...new Set(applied.seeds.map((s) => s.value))];
      if (seeds.length > 0) reporter.note(`seed ${seeds.join(', ')}`, { kind: 'seed', value: seeds[0] });
    }
    reportExpansion(reporter, expansion);
  }

  private firstSeed(): number | undefined {
    switch (this.seedMode.kind) {
      case 'random':
        return randomSeed();
      case 'fixed':
        return this.seedMode.value;
      case 'keep':
        return this.lastSeed;
    }
  }

  private finished(entry: QueuedJob, outcome: { ok: true; saved: { path: string }[] } | { ok: false; error: unknown }): void {
    if (outcome.ok) {
      const image = outcome.saved.filter((file) => IMAGE_EXTENSIONS.has(extname(file.path).toLowerCase())).at(-1);
      if (image) this.lastImagePath = image.path;
    }
    this.closeRetired(entry.client);
  }

  private closeRetired(client: Client): void {
    if (!this.retired.has(client)) return;
    if (this.queue.uses(client)) return;
    this.retired.delete(client);
    client.close();
  }

  setCount(arg: string): void {
    this.count = parseCount(arg);
    this.io.print(`Each prompt now runs ${this.count} job${this.count === 1 ? '' : 's'}.`);
  }

  setSeed(arg: string): void {
    const mode = parseSeedMode(arg);
    this.seedMode = mode;
    if (mode.kind === 'random') this.io.print('Every job gets a new random seed.');
    else if (mode.kind === 'fixed') this.io.print(`Seed ${mode.value} for the next prompts${this.count > 1 ? ` (then ${mode.value + 1}, … for the other jobs of a prompt)` : ''}.`);
    else this.io.print(this.lastSeed === undefined ? 'The next prompt keeps the workflow’s seed, and the prompts after it reuse that one.' : `The next prompts reuse seed ${this.lastSeed}.`);
  }

  /** `/set NODE.INPUT=VALUE`: checked against the workflow now, applied to every job until `/unset`. */
  async setInput(arg: string): Promise<void> {
    if (arg.trim() === '') {
      const sets = [...this.sticky.values()];
      this.io.print(sets.length === 0 ? 'No /set in effect. Usage: /set NODE.INPUT=VALUE (e.g. /set KSampler.steps=30).' : sets.map((s) => `  ${s}`).join('\n'));
      return;
    }
    const set = parseSetArg(arg.trim());
    const workflow = this.workflow;
    if (!workflow) throw new CliError('usage', 'No workflow loaded, so there is nothing to set.', { hint: 'Load one with /workflow FILE.' });
    const ref = resolveTargetArg(workflow, set.target, '/set');
    // `=@FILE`: the file is checked now and uploaded before the next job.
    if (set.kind === 'file') await planUploads(workflow, [], [set.text]);
    const key = `${ref.nodeId}.${ref.input}`;
    this.sticky.delete(key);
    this.sticky.set(key, set.text);
    const value = set.kind === 'file' ? `the upload of ${set.path}` : JSON.stringify(set.value);
    this.io.print(`${describeInput(workflow, ref)} = ${value} for every job (until /unset ${set.target.text}).`);
  }

  unsetInput(arg: string): void {
    const text = arg.trim();
    if (text === '' || text === 'all') {
      const n = this.sticky.size;
      this.sticky.clear();
      this.io.print(n === 0 ? 'No /set was in effect.' : `Removed ${n} /set${n === 1 ? '' : 's'}; jobs use the workflow’s values again.`);
      return;
    }
    const workflow = this.workflow;
    const target = text.includes('=') ? text.slice(0, text.indexOf('=')) : text;
    let key: string | undefined;
    if (workflow) {
      try {
        const ref = resolveTargetArg(workflow, target, '/unset');
        key = `${ref.nodeId}.${ref.input}`;
      } catch {
        key = undefined;
      }
    }
    key ??= [...this.sticky.entries()].find(([, typed]) => typed.slice(0, typed.indexOf('=')) === target)?.[0];
    if (key === undefined || !this.sticky.delete(key)) {
      const current = this.stickyTargets;
      throw new CliError('usage', `/unset ${target}: no /set for it is in effect.`, { hint: current.length > 0 ? `In effect: ${current.join(', ')}.` : 'Nothing is set.' });
    }
    this.io.print(`Removed the /set of ${target}.`);
  }

  async setWorkflow(arg: string): Promise<void> {
    const path = arg.trim();
    if (path === '') throw new CliError('usage', '/workflow needs a file: /workflow FILE.json', { hint: this.workflow ? `Now: ${relativePath(this.settings.workflowPath)}.` : undefined });
    const workflow = await loadWorkflow(path);
    const settings = { ...this.settings, workflowPath: path };
    // The config's sets and files must fit the new workflow too; sticky /sets that do not are dropped.
    planJob(workflow, settings, {});
    await planUploads(workflow, this.options.flags.input ?? [], this.baseFiles);
    const dropped: string[] = [];
    for (const [key, text] of [...this.sticky]) {
      try {
        const set = parseSetArg(text);
        if (set.kind === 'file') resolveTargetArg(workflow, set.target, '/set');
        else planJob(workflow, settings, { sets: [text] });
      } catch {
        this.sticky.delete(key);
        dropped.push(text);
      }
    }
    this.workflow = workflow;
    this.settings = settings;
    this.patchesKey = '';
    this.io.print(`Workflow ${relativePath(path)} (${Object.keys(workflow).length} nodes).${dropped.length > 0 ? ` Dropped /set ${dropped.join(', ')} (not in this workflow).` : ''}`);
  }

  async setServer(arg: string): Promise<void> {
    const url = arg.trim();
    if (url === '') throw new CliError('usage', '/server needs a URL, e.g. /server http://127.0.0.1:8188', { hint: `Now: ${this.client.endpoint.display}.` });
    const connection = { ...this.options.connection, servers: [url] };
    const client = clientFor(connection, url, this.requestTimeoutMs);
    this.options.secrets.push(...secretsOf(connection));
    try {
      await client.api.systemStats();
    } catch (error) {
      client.close();
      throw error;
    }
    const old = this.client;
    this.client = client;
    this.retired.add(old);
    this.closeRetired(old);
    this.io.print(`Server ${client.endpoint.display}.`);
  }

  /** `--vars DIR`, else PYROS_VARS, else `vars` of the config file; then the user's and the bundled folders. */
  variableDirs(): string[] {
    return variableDirsFor(this.options.flags, this.options.config, this.options.env);
  }

  async listVars(): Promise<VariableInfo[]> {
    const dirs = this.variableDirs();
    const vars = await listVariables(dirs);
    if (vars.length === 0) {
      this.io.print(`No prompt variables. Put NAME.txt files (one value per line) in ${dirs[0]} and write __NAME__ in a prompt.`);
      return vars;
    }
    const width = Math.min(28, Math.max(...vars.map((v) => v.name.length + 4)));
    const lines = vars.map((v) => `  ${`__${v.name}__`.padEnd(width)} ${String(v.entries).padStart(4)}  ${truncate(`${v.samples.join(', ')}${v.entries > v.samples.length ? ', …' : ''}`, 64)}`);
    this.io.print([`${vars.length} variable${vars.length === 1 ? '' : 's'} (name, entries, first values):`, ...lines].join('\n'));
    return vars;
  }

  async variableNames(): Promise<string[]> {
    try {
      return (await listVariables(this.variableDirs())).map((v) => v.name);
    } catch {
      return [];
    }
  }

  private requireLastImage(): string {
    if (!this.lastImagePath) throw new CliError('usage', 'No image saved in this session yet.', { hint: 'Type a prompt and press Enter to make one.' });
    return this.lastImagePath;
  }

  async showLast(): Promise<void> {
    const path = this.requireLastImage();
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new PyrosError('output', `Cannot read ${relativePath(path)}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it was moved or deleted' : (error as Error).message}.`);
    }
    if (!this.io.showImage(bytes)) {
      this.io.print(`${relativePath(path)} (this terminal shows no images here; /open opens it in the image viewer)`);
      return;
    }
    this.io.print(relativePath(path));
  }

  async openLast(): Promise<void> {
    const path = this.requireLastImage();
    const result = await openInViewer(path);
    if (!result.ok) throw new PyrosError('usage', result.message);
    this.io.print(`Opened ${relativePath(path)}.`);
  }

  async openGallery(): Promise<void> {
    if (!this.options.startGallery) throw new PyrosError('usage', 'The gallery is not available here.');
    if (!this.gallery) {
      await mkdir(this.settings.outputDir, { recursive: true });
      this.gallery = await this.options.startGallery(this.settings.outputDir);
    }
    const result = await openInViewer(this.gallery.url);
    this.io.print(`Gallery of ${relativePath(this.settings.outputDir)} at ${this.gallery.url}${result.ok ? '' : ` (${result.message})`}`);
  }

  cancel(arg: string): void {
    const all = arg.trim() === 'all';
    if (arg.trim() !== '' && !all) throw new PyrosError('usage', `/cancel takes nothing or "all" (got "${arg.trim()}").`);
    const waiting = all ? this.queue.cancelWaiting() : 0;
    const current = this.queue.cancelCurrent();
    if (!current && waiting === 0) {
      this.io.print('No job is running.');
      return;
    }
    if (waiting > 0) this.io.print(`Cancelling ${waiting} queued job${waiting === 1 ? '' : 's'}.`);
  }

  /** After the last job: closes the clients and the gallery. */
  async close(): Promise<void> {
    await this.gallery?.close().catch(() => undefined);
    for (const client of this.retired) client.close();
    this.retired.clear();
    this.client.close();
  }
}

export function parseSeedMode(text: string): SeedMode {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'random') return { kind: 'random' };
  if (trimmed === 'keep') return { kind: 'keep' };
  if (trimmed === '') throw new PyrosError('usage', 'A seed is needed: a whole number, "random" or "keep".');
  return { kind: 'fixed', value: parseSeed(trimmed) };
}

export function parseCount(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > MAX_COUNT) {
    throw new PyrosError('usage', `The count must be a whole number from 1 to ${MAX_COUNT} (got "${trimmed}").`);
  }
  return Number(trimmed);
}

function relativePath(path: string): string {
  const rel = relative(process.cwd(), resolve(path));
  return rel === '' ? '.' : rel.startsWith('..') ? resolve(path) : rel;
}

function mark(symbol: string, color: 'red' | 'green', enabled: boolean): string {
  if (!enabled) return symbol;
  return `\x1b[${color === 'red' ? 31 : 32}m${symbol}\x1b[39m`;
}

/**
 * The state of an interactive session (workflow, servers, seed, count, sticky `/set`s, the last
 * image) and what each command does with it. Every prompt becomes jobs on the same pipeline as
 * `pyros run`, with the same options. Terminal-agnostic: it prints through `io`, so the same
 * session serves the readline loop and piped input.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { Pool } from '../../client/pool.ts';
import type { ApiWorkflow } from '../../workflow/types.ts';
import { isPyrosError } from '../../errors.ts';
import { expandJobs, outcomeEndedForGood, PipelineJob, type JobOutcome, type JobSpec, type PreparedJob, type RunJournal, type SeedPolicy } from '../../pipeline/index.ts';
import { truncate } from '../../ui/text.ts';
import { listVariables, type VariableInfo } from '../../vars/index.ts';
import { describeInput } from '../../workflow/index.ts';
import type { RunPlan } from '../../pipeline/index.ts';
import { loadWorkflowInput, nodeDefinitions, type WorkflowInput } from '../workflow-input.ts';
import { CliError } from '../errors/cli-error.ts';
import { explain } from '../errors/explain.ts';
import { parseSetArg, resolveTargetArg } from '../set-args.ts';
import { parseSeedPolicy } from '../batch/expand.ts';
import { createPool, type CommandContext } from '../context.ts';
import { finishJournal, startJournal } from '../journal.ts';
import { openInViewer } from '../open-file.ts';
import { lastImage } from '../saved-images.ts';
import { reportPatches } from '../patch-notes.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { buildPlan, type RunSettings } from '../run-settings.ts';
import { planUploads, splitFileSets } from '../uploads.ts';
import { JobQueue, type QueuedJob } from './job-queue.ts';

export type SeedMode = SeedPolicy;

export interface SessionIO {
  /** A line (or lines) for the person. */
  print(text: string): void;
  /** The reporter that shows one job (display, or JSON lines). */
  reporterFor(job: { number: number; label: string }): Reporter;
  /** Draws an image file in the terminal; false when it cannot. */
  showImage(bytes: Uint8Array): boolean;
  color: boolean;
}

const MAX_COUNT = 100;

export interface GalleryHandle {
  url: string;
  close(): Promise<void>;
}

export interface SessionOptions {
  context: CommandContext;
  settings: RunSettings;
  io: SessionIO;
  /** Fail when no workflow is given (otherwise /workflow loads one later). */
  requireWorkflow?: boolean;
  /** Starts the gallery of a folder (loaded lazily by the caller). */
  startGallery?: (dir: string) => Promise<GalleryHandle>;
}

export class Session {
  readonly queue: JobQueue;
  private readonly options: SessionOptions;
  private readonly io: SessionIO;
  private readonly settings: RunSettings;
  private workflowPath: string | undefined;
  private workflow: ApiWorkflow | undefined;
  /** The editor workflow saved with the outputs, when the workflow came with one. */
  private editor: RunPlan['editor'];
  private pool: Pool;
  private readonly retired = new Set<Pool>();
  private seedMode: SeedMode;
  private count: number;
  /** Sticky `/set`s by `nodeId.input`, as typed. */
  private readonly sticky = new Map<string, string>();
  private lastImagePath: string | undefined;
  private patchesKey = '';
  private gallery: GalleryHandle | undefined;
  /** The session's journal (from its first prompt on), and the results of every job submitted. */
  private journal: Promise<RunJournal> | undefined;
  private readonly outcomes: Promise<JobOutcome>[] = [];

  private constructor(options: SessionOptions) {
    this.options = options;
    this.io = options.io;
    this.settings = options.settings;
    this.workflowPath = options.settings.workflowPath;
    this.pool = createPool(options.context);
    this.seedMode = options.settings.seed ?? { kind: 'random' };
    this.count = checkCount(options.settings.count);
    this.queue = new JobQueue({
      verbose: options.context.verbose,
      secrets: options.context.secrets,
      onFinished: (entry, outcome) => this.finished(entry, outcome),
    });
  }

  /** Builds the session; a bad workflow file is an error, a missing one is not (unless required). */
  static async create(options: SessionOptions): Promise<Session> {
    const { settings } = options;
    if (!settings.workflowPath && options.requireWorkflow) {
      throw new CliError('usage', 'No workflow given.', { hint: 'Give one with --workflow FILE (an API-format workflow exported from ComfyUI), or set one with `pyros init`.' });
    }
    const session = new Session(options);
    if (settings.workflowPath) {
      const input = await session.load(settings.workflowPath);
      session.workflow = input.workflow;
      session.editor = input.editor;
    }
    // Fail early on sets and files that do not fit the workflow (they would fail every job).
    if (session.workflow) await session.plan(session.workflow, 1);
    else if (settings.inputs.length > 0 || splitFileSets(settings.sets).files.length > 0) {
      throw new CliError('usage', 'Files to upload (--input, --set NODE.INPUT=@FILE) need a workflow.', { hint: 'Give one with --workflow FILE.' });
    }
    // A --vars folder that does not exist is an error now, not at the first prompt.
    settings.variableDirs();
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

  /** Prompts given on the command line (`--prompt`, `--prompts`), run before any typed one. */
  get initialPrompts(): readonly string[] {
    return this.settings.prompts;
  }

  describeState(): string {
    const seed = describeSeed(this.seedMode);
    const workflow = this.workflow && this.workflowPath ? relativePath(this.workflowPath) : '(none: /workflow FILE)';
    const servers = this.pool.servers().map((info) => info.server);
    return `workflow ${workflow} · server ${servers.join(', ')}\nseed ${seed} · count ${this.count} · output ${relativePath(this.settings.outputDir)}`;
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

  private plan(workflow: ApiWorkflow, total: number): ReturnType<typeof buildPlan> {
    return buildPlan(this.settings, workflow, { workflowPath: this.workflowPath, total, sets: [...this.settings.sets, ...this.sticky.values()], editor: this.editor });
  }

  /** Any workflow pyros reads (editor-format ones converted with the servers' node definitions). */
  private load(path: string): Promise<WorkflowInput> {
    return loadWorkflowInput(path, () => nodeDefinitions({ file: this.settings.objectInfoFile, clients: () => this.pool.clients() }));
  }

  /** Enter: the prompt goes to the servers `count` times, each job with its seed; returns the jobs. */
  async runPrompt(text: string): Promise<QueuedJob[]> {
    const workflow = this.workflow;
    if (!workflow) {
      throw new CliError('usage', 'No workflow loaded.', { hint: 'Load one with /workflow FILE (an API-format workflow exported from ComfyUI), or start with --workflow FILE.' });
    }
    const plan = await this.plan(workflow, this.count);
    const specs = expandJobs({ prompts: [text], count: this.count, seed: this.seedMode });
    const ahead = this.queue.size;
    const pool = this.pool;
    this.journal ??= startJournal(plan.outputDir, 'interactive', pool).catch((error: unknown) => {
      this.journal = undefined;
      throw error;
    });
    const journal = await this.journal;
    await journal.addJobs(plan, specs);
    const context = { pool, outputDir: plan.outputDir, journal };
    const start = (spec: JobSpec): PipelineJob => {
      const job = PipelineJob.submit(context, plan, spec);
      this.outcomes.push(job.result);
      return job;
    };
    const jobs = specs.map((spec) =>
      this.queue.submit({ ...context, start: () => start(spec) }, (job) => this.io.reporterFor(job), {
        patches: (prepared, reporter) => this.announce(reporter, prepared),
      }),
    );
    if (ahead > 0) {
      const numbers = jobs.map((job) => job.number);
      const names = numbers.length === 1 ? `job ${numbers[0]}` : `jobs ${numbers[0]}–${numbers.at(-1)}`;
      this.io.print(`${names} queued (${ahead} ahead)`);
    }
    return jobs;
  }

  /** The patches in full when they differ from the last job's, else one short line. */
  private announce(reporter: Reporter, prepared: PreparedJob): void {
    const { applied } = prepared.patched;
    const key = JSON.stringify([applied.prompt && [applied.prompt.nodeId, applied.prompt.input], applied.seeds.map((s) => [s.nodeId, s.input]), applied.sets, prepared.patched.notes]);
    if (key !== this.patchesKey) {
      this.patchesKey = key;
      reportPatches(reporter, prepared.patched);
    } else {
      const seeds = [...new Set(applied.seeds.map((s) => s.value))];
      if (seeds.length > 0) reporter.note(`seed ${seeds.join(', ')}`, { kind: 'seed', value: seeds[0] });
    }
  }

  private finished(entry: QueuedJob, outcome: { ok: true; saved: { path: string }[] } | { ok: false; error: unknown }): void {
    if (outcome.ok) {
      const image = lastImage(outcome.saved);
      if (image) {
        this.lastImagePath = image.path;
        if (this.settings.show) void this.showLast().catch((error: unknown) => this.fail(error));
        if (this.settings.open) void this.openLast().catch((error: unknown) => this.fail(error));
      }
    }
    this.closeRetired(entry.pool);
  }

  private closeRetired(pool: Pool): void {
    if (!this.retired.has(pool) || this.queue.uses(pool)) return;
    this.retired.delete(pool);
    pool.close();
  }

  setCount(arg: string): void {
    this.count = parseCount(arg);
    this.io.print(`Each prompt now runs ${this.count} job${this.count === 1 ? '' : 's'}.`);
  }

  setSeed(arg: string): void {
    if (arg.trim() === '') throw new CliError('usage', 'A seed is needed: a whole number, N+ (counting up), "random" or "keep".');
    const mode = parseSeedMode(arg);
    this.seedMode = mode;
    if (mode.kind === 'random') this.io.print('Every job gets a new random seed.');
    else if (mode.kind === 'fixed') this.io.print(`Seed ${mode.value} for every job.`);
    else if (mode.kind === 'sequence') this.io.print(`Seeds ${mode.start}, ${mode.start + 1}, … for the jobs of each prompt.`);
    else this.io.print('Jobs keep the workflow’s seed.');
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
    if (path === '') throw new CliError('usage', '/workflow needs a file: /workflow FILE.json', { hint: this.workflow && this.workflowPath ? `Now: ${relativePath(this.workflowPath)}.` : undefined });
    const input = await this.load(path);
    const workflow = input.workflow;
    // The config's sets and files must fit the new workflow too; sticky /sets that do not are dropped.
    await buildPlan(this.settings, workflow, { workflowPath: path, total: 1 });
    const dropped: string[] = [];
    for (const [key, text] of [...this.sticky]) {
      try {
        const set = parseSetArg(text);
        if (set.kind === 'file') resolveTargetArg(workflow, set.target, '/set');
        else await buildPlan(this.settings, workflow, { total: 1, sets: [...this.settings.sets, text] });
      } catch {
        this.sticky.delete(key);
        dropped.push(text);
      }
    }
    this.workflow = workflow;
    this.editor = input.editor;
    this.workflowPath = path;
    this.patchesKey = '';
    this.io.print(`Workflow ${relativePath(path)} (${Object.keys(workflow).length} nodes).${dropped.length > 0 ? ` Dropped /set ${dropped.join(', ')} (not in this workflow).` : ''}`);
  }

  async setServer(arg: string): Promise<void> {
    const url = arg.trim();
    if (url === '') throw new CliError('usage', '/server needs a URL, e.g. /server http://127.0.0.1:8188', { hint: `Now: ${this.pool.servers().map((info) => info.server).join(', ')}.` });
    const pool = createPool(this.options.context, [url]);
    const client = pool.clientOf(pool.servers()[0]?.server ?? '');
    this.options.context.secrets.push(...(client?.endpoint.secrets ?? []));
    try {
      await client?.api.systemStats();
    } catch (error) {
      pool.close();
      throw error;
    }
    const old = this.pool;
    this.pool = pool;
    this.retired.add(old);
    this.closeRetired(old);
    this.io.print(`Server ${client?.endpoint.display ?? url}.`);
  }

  variableDirs(): string[] {
    return this.settings.variableDirs();
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
      throw new CliError('output', `Cannot read ${relativePath(path)}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it was moved or deleted' : (error as Error).message}.`);
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
    if (!result.ok) throw new CliError('usage', result.message);
    this.io.print(`Opened ${relativePath(path)}.`);
  }

  async openGallery(): Promise<void> {
    if (!this.options.startGallery) throw new CliError('usage', 'The gallery is not available here.');
    if (!this.gallery) {
      await mkdir(this.settings.outputDir, { recursive: true });
      this.gallery = await this.options.startGallery(this.settings.outputDir);
    }
    const result = await openInViewer(this.gallery.url);
    this.io.print(`Gallery of ${relativePath(this.settings.outputDir)} at ${this.gallery.url}${result.ok ? '' : ` (${result.message})`}`);
  }

  cancel(arg: string): void {
    const all = arg.trim() === 'all';
    if (arg.trim() !== '' && !all) throw new CliError('usage', `/cancel takes nothing or "all" (got "${arg.trim()}").`);
    const waiting = all ? this.queue.cancelWaiting() : 0;
    const current = this.queue.cancelCurrent();
    if (!current && waiting === 0) {
      this.io.print('No job is running.');
      return;
    }
    if (waiting > 0) this.io.print(`Cancelling ${waiting} queued job${waiting === 1 ? '' : 's'}.`);
  }

  /** After the last job: closes the journal, the pools and the gallery. */
  async close(): Promise<void> {
    // Jobs still under way are left to run (a resume takes them up); those that ended count.
    const ended = await Promise.all(this.outcomes.map((result) => Promise.race([result, Promise.resolve(undefined)])));
    const outcomes = ended.filter((outcome): outcome is JobOutcome => outcome !== undefined);
    await finishJournal(await this.journal?.catch(() => undefined), outcomes.length === this.outcomes.length && outcomes.every(outcomeEndedForGood));
    await this.gallery?.close().catch(() => undefined);
    for (const pool of this.retired) pool.close();
    this.retired.clear();
    this.pool.close();
  }
}

/** As the person would type it: `random`, `keep`, `42`, `42+`. */
function describeSeed(policy: SeedPolicy): string {
  return policy.kind === 'fixed' ? String(policy.value) : policy.kind === 'sequence' ? `${policy.start}+` : policy.kind;
}

export function parseSeedMode(text: string): SeedMode {
  return parseSeedPolicy(text.trim().toLowerCase());
}

function checkCount(count: number): number {
  if (count > MAX_COUNT) throw new CliError('usage', `The count must be a whole number from 1 to ${MAX_COUNT} (got "${count}").`);
  return count;
}

export function parseCount(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > MAX_COUNT) {
    throw new CliError('usage', `The count must be a whole number from 1 to ${MAX_COUNT} (got "${trimmed}").`);
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

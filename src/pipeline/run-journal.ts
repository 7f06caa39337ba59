/**
 * The journal of a run, in its output folder (`.pyros-journal/RUN.ndjson`, see
 * journal-entries.ts): the plan, then every change of state of every job, each written before the
 * run acts on it. A kill at any instant (SIGKILL) therefore loses nothing the server did; the
 * entries an action depends on are on the disk before it, so that a power loss does not either:
 * `dispatched` before POST /prompt, `placing` before a file takes its name (each makes every line
 * before it durable too). The run holds the journal's lock (RUN.lock) while it writes; a dead
 * process does not.
 */
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import type { ApiWorkflow } from '../workflow/types.ts';
import { isPyrosError } from '../errors.ts';
import { ensureDir } from '../outputs/atomic.ts';
import { JournalFile } from '../outputs/journal-file.ts';
import { FileLock } from '../outputs/lock.ts';
import type { SaveJournal, SavedFile } from '../outputs/save.ts';
import { JOURNAL_VERSION, type DoneEntry, type JobRow, type JournalEntry, type PlanEntry } from './journal-entries.ts';
import type { JobOutcome } from './pipeline-job.ts';
import type { JobSpec, RunPlan } from './plan.ts';
import type { PreparedJob } from './prepare.ts';

/** The folder of the journals, inside an output folder (output names never start with a dot). */
export const JOURNAL_FOLDER = '.pyros-journal';
const JOBS_PER_LINE = 1_000;
/** Characters of a job's text outputs its `done` entry keeps (the summary shows fewer). */
const TEXT_KEPT = 200;

/** A job in the journal: its plan and its index in that plan. */
export interface JobRef {
  plan: number;
  job: number;
}

interface KnownPlan {
  id: number;
  plan: RunPlan;
  /** The plan's workflow with the inputs every job sets: what `prepared` entries are compared with. */
  base?: ApiWorkflow;
}

export function journalFolder(outputDir: string): string {
  return join(outputDir, JOURNAL_FOLDER);
}

export function lockPathOf(journalPath: string): string {
  return journalPath.replace(/\.ndjson$/, '.lock');
}

export class RunJournal {
  readonly path: string;
  private readonly file: JournalFile;
  private readonly lock: FileLock;
  private readonly plans = new Map<RunPlan, KnownPlan>();
  private nextPlan: number;
  private failure: unknown;

  private constructor(path: string, file: JournalFile, lock: FileLock, nextPlan: number) {
    this.path = path;
    this.file = file;
    this.lock = lock;
    this.nextPlan = nextPlan;
  }

  /** Starts the journal of a new run in `outputDir` (creating the folder), holding its lock. */
  static async create(outputDir: string, init: { command: string; servers: string[] }): Promise<RunJournal> {
    const folder = journalFolder(outputDir);
    await ensureDir(outputDir);
    await ensureDir(folder);
    const now = new Date();
    const run = `${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
    const path = join(folder, `${run}.ndjson`);
    const lock = await FileLock.acquire(lockPathOf(path));
    try {
      const file = await JournalFile.create(path);
      const journal = new RunJournal(path, file, lock, 0);
      await journal.write({ type: 'run', v: JOURNAL_VERSION, run, command: init.command, started: now.toISOString(), pid: process.pid, output: outputDir, servers: init.servers });
      return journal;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * Goes on with a journal read by `readRunJournal` (its lock already taken by the caller):
   * a cut last line is dropped, and the entries that follow are appended.
   */
  static async resume(path: string, lock: FileLock, read: { validBytes: number; plans: number }): Promise<RunJournal> {
    const file = await JournalFile.reopen(path, read.validBytes);
    const journal = new RunJournal(path, file, lock, read.plans);
    await journal.write({ type: 'resumed', at: new Date().toISOString(), pid: process.pid });
    return journal;
  }

  /** The first failure to write (the disk is full): the run's outcome should say so. */
  get writeFailure(): unknown {
    return this.failure;
  }

  /** Appends an entry: on the disk before this resolves when `durable` (the run acts on it next), written otherwise. */
  private write(entry: JournalEntry, durable = true): Promise<void> {
    return this.file.append(entry, { durable }).catch((error: unknown) => {
      this.failure ??= error;
      throw error;
    });
  }

  /** Records a plan and its jobs (their prompts and seeds), before any of them starts. */
  async addJobs(plan: RunPlan, specs: readonly JobSpec[]): Promise<void> {
    const prompts = new Map<string | null, number>();
    for (const spec of specs) if (!prompts.has(spec.prompt ?? null)) prompts.set(spec.prompt ?? null, prompts.size);
    const id = this.nextPlan++;
    this.plans.set(plan, { id, plan });
    const entry: PlanEntry = {
      type: 'plan',
      plan: id,
      workflow: plan.workflow,
      workflowFile: plan.workflowFile,
      recipe: plan.recipe ?? { sets: [] },
      uploads: plan.uploads.map((upload) => ({ nodeId: upload.nodeId, input: upload.input, path: upload.path, folder: upload.folder })),
      variableDirs: plan.variableDirs(),
      timeoutMs: plan.timeoutMs,
      retries: plan.retries,
      total: plan.total,
      prompts: [...prompts.keys()],
      ...(plan.front ? { front: true } : {}),
      ...(plan.outputs ? { outputs: [...plan.outputs] } : {}),
      ...(plan.editor ? { editor: plan.editor.workflow } : {}),
    };
    const written = [this.write(entry)];
    for (let from = 0; from < specs.length; from += JOBS_PER_LINE) {
      const jobs: JobRow[] = specs.slice(from, from + JOBS_PER_LINE).map((spec) => [spec.index, prompts.get(spec.prompt ?? null) ?? 0, spec.seed ?? null]);
      written.push(this.write({ type: 'jobs', plan: id, jobs }));
    }
    await Promise.all(written);
  }

  /** A plan read back from the journal, under its id there (a resumed run adds no plan). */
  knowPlan(plan: RunPlan, id: number): void {
    this.plans.set(plan, { id, plan });
  }

  /** The journal's name for a job of a plan given to `addJobs` (or `knowPlan`). */
  ref(plan: RunPlan, spec: JobSpec): JobRef {
    const known = this.plans.get(plan);
    if (!known) throw new Error('the plan of this job is not in the journal');
    return { plan: known.id, job: spec.index };
  }

  prepared(ref: JobRef, prepared: PreparedJob): Promise<void> {
    const known = [...this.plans.values()].find((entry) => entry.id === ref.plan);
    const base = known ? (known.base ??= known.plan.patch(known.plan.workflow, {}).workflow) : {};
    // The expanded prompt of a job with variables is kept once, in `prompt` (without, it is the job's prompt as given).
    const variables = prepared.record.variables;
    const prompt = variables ? prepared.record.prompt : undefined;
    const changes = changesFrom(base, prepared.workflow).filter(([node, input, value]) => !(prompt && node === prompt.nodeId && input === prompt.input && value === prompt.text));
    return this.write({ type: 'prepared', ...ref, changes, prompt, variables }, false);
  }

  /** Written (and on the disk) before POST /prompt. */
  dispatched(ref: JobRef, info: { promptId: string; server: string }): Promise<void> {
    return this.write({ type: 'dispatched', ...ref, prompt_id: info.promptId, server: info.server });
  }

  finished(ref: JobRef, info: { promptId: string; server: string; outputs: { key: string; nodeId: string }[] }): Promise<void> {
    return this.write({ type: 'finished', ...ref, prompt_id: info.promptId, server: info.server, outputs: info.outputs.map((output) => [output.key, output.nodeId]) }, false);
  }

  /** What the saving of a job's outputs records. */
  saves(ref: JobRef): SaveJournal {
    return {
      placing: (info) => this.write({ type: 'placing', ...ref, output: info.output, temp: info.temp, name: info.name }),
      placed: (info) => this.write({ type: 'saved', ...ref, output: info.output, ...savedFields(info.file) }, false),
    };
  }

  /** The job's end, with what the run's summary lists (see `doneEntry`). */
  done(ref: JobRef, outcome: JobOutcome): Promise<void> {
    return this.write(doneEntry(ref, outcome), false);
  }

  /** A job whose outputs a killed run had all saved: its end, found by a resume. */
  doneEarlier(ref: JobRef, info: { promptId: string; server: string }): Promise<void> {
    return this.write({ type: 'done', ...ref, ok: true, prompt_id: info.promptId, server: info.server }, false);
  }

  /** Every job has ended for good: a resume has nothing left to do. */
  end(): Promise<void> {
    return this.write({ type: 'end', at: new Date().toISOString() });
  }

  /** Waits for what was appended, closes the file and releases the lock. */
  async close(): Promise<void> {
    await this.file.close();
    await this.lock.release();
  }
}

/** The `done` entry of a job's outcome: how it ended, and what the run's summary lists of it. */
export function doneEntry(ref: JobRef, outcome: JobOutcome): DoneEntry {
  const files = outcome.files.map((file) => {
    const { file: name, bytes, node, sidecars } = savedFields(file);
    return { file: name, bytes, node, sidecars };
  });
  const attempts = outcome.attempts.map((attempt) => ({ server: attempt.server, prompt_id: attempt.promptId, outcome: attempt.outcome, ...(attempt.reason === undefined ? {} : { reason: attempt.reason }) }));
  const prompt = outcome.record?.prompt?.text;
  if (outcome.ok) {
    const texts = outcome.result.texts.flatMap((entry) => entry.values);
    const text = texts.length > 0 ? { text: texts.join(' | ').replace(/\s+/g, ' ').slice(0, TEXT_KEPT) } : {};
    return { type: 'done', ...ref, ok: true, prompt_id: outcome.promptId, server: outcome.server, files, attempts, prompt, ...text };
  }
  const error = outcome.error;
  const limitMs = isPyrosError(error) ? error.fields.limitMs : undefined;
  return {
    type: 'done',
    ...ref,
    ok: false,
    prompt_id: outcome.promptId || undefined,
    server: outcome.server,
    stage: outcome.stage,
    kind: isPyrosError(error) ? error.kind : 'internal',
    reason: isPyrosError(error) ? error.reason : undefined,
    message: error instanceof Error ? error.message : String(error),
    files,
    attempts,
    prompt,
    ...(typeof limitMs === 'number' ? { limit_ms: limitMs } : {}),
  };
}

function savedFields(file: SavedFile): { file: string; bytes: number; node: string; sidecars: string[] } {
  return { file: basename(file.path), bytes: file.bytes, node: file.nodeId, sidecars: file.sidecars.map((path) => basename(path)) };
}

/** The inputs of `workflow` whose value is not the one in `base`, as [node, input, value]. */
function changesFrom(base: ApiWorkflow, workflow: ApiWorkflow): [string, string, unknown][] {
  const changes: [string, string, unknown][] = [];
  for (const [nodeId, node] of Object.entries(workflow)) {
    const before = base[nodeId]?.inputs ?? {};
    for (const [input, value] of Object.entries(node.inputs)) {
      if (!(input in before) || !sameValue(before[input], value)) changes.push([nodeId, input, value]);
    }
  }
  return changes;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

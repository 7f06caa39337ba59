/**
 * A run's journal read back: the run, its plans, and where each job stands (never started,
 * dispatched as which prompts to which servers, finished, which outputs are saved, ended). Jobs
 * that ended for good keep only what the summary needs, so that a long batch stays small.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isPyrosError, PyrosError } from '../errors.ts';
import { readJournalFile } from '../outputs/journal-file.ts';
import {
  JOURNAL_VERSION,
  type DispatchedEntry,
  type DoneEntry,
  type FinishedEntry,
  type JournalEntry,
  type PlanEntry,
  type PreparedEntry,
  type RunEntry,
  type SavedEntry,
} from './journal-entries.ts';
import type { JobOutcome } from './pipeline-job.ts';
import { journalFolder } from './run-journal.ts';

export interface JobState {
  plan: number;
  index: number;
  /** The prompt as given (it may hold variables); undefined keeps the workflow's. */
  prompt: string | undefined;
  seed: number | undefined;
  prepared?: PreparedEntry;
  /** Every submission, in order (a retry or a move adds one). */
  attempts: { promptId: string; server: string }[];
  finished?: FinishedEntry;
  placing?: Map<string, { temp: string; name: string }>;
  saved?: Map<string, SavedEntry>;
  done?: DoneEntry;
}

export interface RunState {
  path: string;
  run: RunEntry;
  plans: Map<number, PlanEntry>;
  /** Every job of every plan, in the order they were planned. */
  jobs: JobState[];
  /** An `end` entry: every job ended for good. */
  ended: boolean;
  /** Bytes of complete lines (appending resumes there), and of a last line cut short. */
  validBytes: number;
  cutBytes: number;
}

/**
 * Whether a job's end is for good. A job that ran (or was refused) stays as it ended; one that
 * did not end on the server's word (cancelled here, lost, cut off, not saved) is taken up again
 * by a resume: followed if a server has it, submitted if none ever had it, saved if it finished.
 */
export function endedForGood(done: Pick<DoneEntry, 'ok' | 'stage' | 'kind' | 'reason'> | undefined): boolean {
  if (!done) return false;
  if (done.ok || done.stage === 'prepare') return true;
  switch (done.kind) {
    case 'rejected':
    case 'execution':
    case 'interrupted':
      return true;
    case 'timeout':
      return done.reason === 'job';
    case 'output':
      return done.reason === 'file-missing' || done.reason === 'download-refused';
    default:
      return false;
  }
}

/** `endedForGood` for a job's outcome. */
export function outcomeEndedForGood(outcome: JobOutcome): boolean {
  if (outcome.ok) return true;
  const error = outcome.error;
  return endedForGood({ ok: false, stage: outcome.stage, kind: isPyrosError(error) ? error.kind : 'internal', reason: isPyrosError(error) ? error.reason : undefined });
}

/** Whether the last complete line of a journal ends its run (read from its tail only). */
export async function journalEnded(path: string): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 4096);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    const lines = tail.toString('utf8').split('\n');
    lines.pop(); // after the last newline: empty, or a line cut short
    const last = lines.at(-1);
    return last !== undefined && (JSON.parse(last) as { type?: unknown }).type === 'end';
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** The journals of runs in `outputDir`, oldest first (their names start with the start time). */
export async function listJournals(outputDir: string): Promise<string[]> {
  const folder = journalFolder(outputDir);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.ndjson'))
    .sort()
    .map((name) => join(folder, name));
}

const JOB_TYPES = new Set(['prepared', 'dispatched', 'finished', 'placing', 'saved', 'done']);

/** Reads a journal (see readJournalFile for what a damaged one gives). */
export async function readRunJournal(path: string): Promise<RunState> {
  let run: RunEntry | undefined;
  const plans = new Map<number, PlanEntry>();
  const jobs: JobState[] = [];
  const byRef = new Map<string, JobState>();
  let ended = false;

  const refuse = (line: number, what: string): never => {
    throw new PyrosError('usage', `The journal ${path} is damaged: line ${line} ${what}.`, { reason: 'journal-corrupt', fields: { path, line } });
  };

  const read = await readJournalFile(path, (raw, line) => {
    const entry = raw as JournalEntry;
    if (typeof entry !== 'object' || entry === null || typeof entry.type !== 'string') refuse(line, 'is not an entry');
    if (!run) {
      if (entry.type !== 'run') refuse(line, 'does not start a run (is this a pyros journal?)');
      const first = entry as RunEntry;
      if (typeof first.v !== 'number' || first.v > JOURNAL_VERSION) {
        throw new PyrosError('usage', `The journal ${path} was written by a newer version of pyros (format ${String(first.v)}; this one reads ${JOURNAL_VERSION}).`, {
          reason: 'journal-unsupported',
          fields: { path },
        });
      }
      run = first;
      return;
    }
    switch (entry.type) {
      case 'plan':
        if (typeof entry.plan !== 'number' || typeof entry.workflow !== 'object' || !Array.isArray(entry.prompts)) refuse(line, 'is not a plan');
        plans.set(entry.plan, entry);
        return;
      case 'jobs': {
        const plan = plans.get(entry.plan) ?? refuse(line, `names a plan (${entry.plan}) that was not recorded`);
        if (!Array.isArray(entry.jobs)) refuse(line, 'lists no jobs');
        for (const [index, prompt, seed] of entry.jobs) {
          const state: JobState = { plan: entry.plan, index, prompt: plan.prompts[prompt] ?? undefined, seed: seed ?? undefined, attempts: [] };
          jobs.push(state);
          byRef.set(`${entry.plan}:${index}`, state);
        }
        return;
      }
      case 'resumed':
        return;
      case 'end':
        ended = true;
        return;
      case 'run':
        return refuse(line, 'starts another run');
      default: {
        if (!JOB_TYPES.has((entry as { type: string }).type)) refuse(line, `is of an unknown kind ("${String((entry as { type: unknown }).type)}")`);
        const ref = entry as { plan: number; job: number };
        const job = byRef.get(`${ref.plan}:${ref.job}`) ?? refuse(line, `names a job (${ref.plan}:${ref.job}) that was not planned`);
        apply(job, entry as JobEntry);
      }
    }
  });
  if (!run) throw new PyrosError('usage', `The journal ${path} is empty.`, { reason: 'journal-corrupt', fields: { path, line: 1 } });
  return { path, run, plans, jobs, ended, validBytes: read.validBytes, cutBytes: read.cutBytes };
}

type JobEntry = Extract<JournalEntry, { job: number }>;

function apply(job: JobState, entry: JobEntry): void {
  switch (entry.type) {
    case 'prepared':
      job.prepared = entry;
      return;
    case 'dispatched':
      job.attempts.push({ promptId: (entry as DispatchedEntry).prompt_id, server: entry.server });
      return;
    case 'finished':
      job.finished = entry;
      return;
    case 'placing':
      (job.placing ??= new Map()).set(entry.output, { temp: entry.temp, name: entry.name });
      return;
    case 'saved':
      job.placing?.delete(entry.output);
      (job.saved ??= new Map()).set(entry.output, entry);
      return;
    case 'done':
      job.done = entry;
      if (endedForGood(entry)) {
        // Ended for good: nothing more is needed of it (a long batch stays small).
        job.done = { type: 'done', plan: entry.plan, job: entry.job, ok: entry.ok, stage: entry.stage, kind: entry.kind, reason: entry.reason };
        job.prepared = undefined;
        job.placing = undefined;
        job.saved = undefined;
        job.attempts = [];
        job.finished = undefined;
      }
      return;
  }
}

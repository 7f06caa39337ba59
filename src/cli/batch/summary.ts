/**
 * The closing summary of a batch (and of a resumed run): one row per job that ended, in job
 * order (its server, seed, files or error), the totals, and the exit code: 0 when every job
 * succeeded, 10 when some failed, the failure's own code when all failed the same way (e.g. 3:
 * no server reachable), 130 when cancelled.
 *
 * It is read back from the run's journal (see JobEnds) one row at a time, for people and for
 * `--json` alike, so that a batch of 100,000 jobs holds no row in memory.
 */
import { join } from 'node:path';
import { PyrosError, type ErrorKind } from '../../errors.ts';
import type { DoneEntry, JobEnds } from '../../pipeline/index.ts';
import { titleOf } from '../errors/explain.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { shortHost } from './reporter.ts';

/** What the command knows of the job in a place of the summary. */
export interface SummaryJob {
  /** Its number as shown (1-based). */
  number: number;
  /** The prompt as given. */
  prompt: string | undefined;
  seed: number | undefined;
}

export interface SummaryOptions {
  ends: JobEnds;
  job(slot: number): SummaryJob;
  /** Jobs the run meant to run. */
  total: number;
  cancelled: boolean;
  outputDir: string;
}

export interface BatchSummary {
  code: number;
  /** The fields of the `--json` result before its `jobs`. */
  head: { ok: boolean; total: number; succeeded: number; failed: number; exit_code: number };
  /** The table, the totals and the hints, one line at a time. */
  lines(): AsyncGenerator<string>;
  /** The `jobs` of the `--json` result, one at a time. */
  jobs(): AsyncGenerator<Record<string, unknown>>;
  /** Lines after the hints, and fields after `jobs`, that the command adds. */
  more: string[];
  tail: Record<string, unknown>;
}

/** The totals, widths and exit code from one pass over the ends; rows are read again when written. */
export async function summarize(options: SummaryOptions): Promise<BatchSummary> {
  const { ends, total } = options;
  let succeeded = 0;
  let failed = 0;
  let files = 0;
  let fetchable = 0;
  let hostWidth = 6;
  let seedWidth = 4;
  let firstPrompt: { text: string | undefined } | undefined;
  let severalPrompts = false;
  const kinds = new Set<string>();
  let firstFailure: DoneEntry | undefined;
  for await (const { entry, slot } of ends.entries()) {
    const job = options.job(slot);
    if (entry.ok) succeeded += 1;
    else {
      failed += 1;
      kinds.add(kindOf(entry));
      firstFailure ??= entry;
      if (isFetchable(entry)) fetchable += 1;
    }
    files += entry.files?.length ?? 0;
    hostWidth = Math.max(hostWidth, shortHost(entry.server).length);
    seedWidth = Math.max(seedWidth, String(job.seed ?? '-').length);
    const prompt = entry.prompt ?? job.prompt;
    if (!firstPrompt) firstPrompt = { text: prompt };
    else if (firstPrompt.text !== prompt) severalPrompts = true;
  }
  const notRun = total - succeeded - failed;
  let code: number = EXIT_CODES.ok;
  if (options.cancelled) code = EXIT_CODES.cancelled;
  else if (failed > 0 && succeeded === 0 && kinds.size === 1 && firstFailure) code = exitCodeOf(firstFailure);
  else if (failed > 0) code = EXIT_CODES.partial;

  const numberWidth = String(total).length + 1;
  const row = (entry: DoneEntry, job: SummaryJob): string => {
    const promptText = entry.prompt ?? job.prompt;
    const prompt = severalPrompts && promptText !== undefined ? ` "${clip(promptText, 40)}"` : '';
    const moved = (entry.attempts ?? []).filter((attempt) => attempt.outcome === 'moved').map((attempt) => shortHost(attempt.server));
    const note = moved.length > 0 ? ` (moved off ${moved.join(', ')})` : '';
    const paths = pathsOf(entry, options.outputDir);
    const result = entry.ok
      ? `${paths.join(', ') || 'no files'}${entry.text ? ` · text: ${clip(entry.text, 60)}` : ''}`
      : `✖ ${failureTitle(entry)}${paths.length > 0 ? ` (kept: ${paths.join(', ')})` : ''}`;
    return `${String(job.number).padEnd(numberWidth)}  ${shortHost(entry.server).padEnd(hostWidth)}  ${String(job.seed ?? '-').padEnd(seedWidth)}  ${result}${prompt}${note}`;
  };

  const summary: BatchSummary = {
    code,
    head: { ok: failed === 0 && !options.cancelled && notRun === 0, total, succeeded, failed, exit_code: code },
    more: [],
    tail: {},
    async *lines() {
      yield `${'job'.padEnd(numberWidth)}  ${'server'.padEnd(hostWidth)}  ${'seed'.padEnd(seedWidth)}  result`;
      for await (const { entry, slot } of ends.entries()) yield row(entry, options.job(slot));
      const jobs = `${total} job${total === 1 ? '' : 's'}`;
      yield `${succeeded === total ? 'done' : options.cancelled ? 'cancelled' : 'finished'}: ${succeeded} of ${jobs} succeeded${failed > 0 ? `, ${failed} failed` : ''}${notRun > 0 ? `, ${notRun} not run` : ''}; ${files} file${files === 1 ? '' : 's'} saved in ${options.outputDir}`;
      if (fetchable > 0) {
        yield `hint: what a failed job left on its server can be fetched with \`pyros fetch PROMPT_ID --server SERVER\` (prompt ids in --json, or below)`;
        for await (const { entry, slot } of ends.entries()) {
          if (!entry.ok && isFetchable(entry)) yield `  job ${options.job(slot).number}: pyros fetch ${entry.prompt_id ?? ''} --server ${entry.server}`;
        }
      }
      yield* summary.more;
    },
    async *jobs() {
      for await (const { entry, slot } of ends.entries()) {
        const job = options.job(slot);
        yield {
          job: job.number,
          ok: entry.ok,
          server: entry.server ?? null,
          prompt_id: entry.prompt_id ?? '',
          prompt: entry.prompt ?? job.prompt,
          seed: job.seed,
          files: (entry.files ?? []).map((file) => ({ path: join(options.outputDir, file.file), bytes: file.bytes, node_id: file.node, sidecars: file.sidecars.map((name) => join(options.outputDir, name)) })),
          attempts: (entry.attempts ?? []).map((attempt) => ({ server: attempt.server, promptId: attempt.prompt_id, outcome: attempt.outcome, ...(attempt.reason === undefined ? {} : { reason: attempt.reason }) })),
          error: entry.ok ? undefined : { kind: kindOf(entry), message: failureTitle(entry) },
        };
      }
    },
  };
  return summary;
}

function kindOf(entry: DoneEntry): string {
  return entry.kind ?? 'internal';
}

/** What a failed job left on its server can be fetched: it got there, and was not refused. */
function isFetchable(entry: DoneEntry): boolean {
  return Boolean(entry.server) && entry.kind !== 'connection' && entry.kind !== 'rejected';
}

function exitCodeOf(entry: DoneEntry): number {
  return EXIT_CODES[kindOf(entry) as ErrorKind] ?? EXIT_CODES.internal;
}

/** The failure's title as the live line gave it (worded from its kind, reason, message and limit). */
function failureTitle(entry: DoneEntry): string {
  const message = entry.message ?? 'failed';
  const kind = kindOf(entry);
  if (!(kind in EXIT_CODES) || kind === 'internal') return `unexpected failure: ${message}`;
  const error = new PyrosError(kind as 'usage', message, { reason: entry.reason as never, fields: entry.limit_ms === undefined ? {} : { limitMs: entry.limit_ms } });
  return titleOf(error);
}

function pathsOf(entry: DoneEntry, outputDir: string): string[] {
  return (entry.files ?? []).map((file) => join(outputDir, file.file));
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

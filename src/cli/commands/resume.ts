/**
 * `pyros resume [DIR]`: finishes the runs of an output folder that did not end (killed, cut off,
 * interrupted), from their journals. Each job runs once and its files are saved once: a prompt a
 * server still knows is followed by its id and saved (what was saved already is not downloaded
 * again), a job that never reached a server is submitted, a job that ended is left alone. The
 * journal is locked while this runs; a second resume of the same run is refused.
 */
import { basename, dirname, resolve } from 'node:path';
import type { Pool } from '../../client/pool.ts';
import { isPyrosError, PyrosError } from '../../errors.ts';
import { pathExists, removeStaleTemps } from '../../outputs/atomic.ts';
import { FileLock } from '../../outputs/lock.ts';
import { decideStep, endedForGood, journalEnded, listJournals, lockPathOf, readRunJournal, RunJournal, type RunPlan } from '../../pipeline/index.ts';
import { commandContext, createPool, earlySecrets, type CommandContext, type CommonFlags } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { JsonReporter } from '../reporters/json.ts';
import { parseRetries } from '../run-settings.ts';
import { formatErrorBlock } from '../../ui/summary.ts';
import { rebuildPlan, resumeServers, serversGiven } from '../resume/rebuild.ts';
import { runResumed, type Planned } from '../resume/run.ts';

export interface ResumeFlags extends CommonFlags {
  retry?: string;
  preview?: string;
}

/** Lines and results that are not a job's: to stdout (or one JSON object per line). */
interface Say {
  line(text: string, data?: Record<string, unknown>): void;
  error(error: unknown): void;
}

function sayer(context: Pick<CommandContext, 'json' | 'secrets' | 'verbose' | 'color'>): Say {
  const json = context.json ? new JsonReporter({ secrets: context.secrets, verbose: context.verbose }) : undefined;
  return {
    line: (text, data = {}) => (json ? json.emit('result', { message: text, ...data }) : process.stdout.write(`${text}\n`)),
    error: (error) => {
      if (json) json.error(errorBlock(error, { verbose: context.verbose, secrets: context.secrets }), errorEvent(error, context.secrets));
      else for (const line of formatErrorBlock(errorBlock(error, { verbose: context.verbose, secrets: context.secrets }), { color: context.color && Boolean(process.stderr.isTTY) })) process.stderr.write(`${line}\n`);
    },
  };
}

export async function resumeCommand(dirArg: string | undefined, flags: ResumeFlags): Promise<number> {
  const secrets = earlySecrets(flags);
  let context: CommandContext;
  try {
    context = await commandContext(flags, secrets);
  } catch (error) {
    sayer({ json: Boolean(flags.json), secrets, verbose: Boolean(flags.verbose), color: flags.color !== false }).error(error);
    return exitCodeOf(error);
  }
  const say = sayer(context);
  try {
    const retries = flags.retry === undefined ? undefined : parseRetries(flags.retry);
    // A journal file names one run of its folder; a folder means all of its runs.
    const one = dirArg !== undefined && dirArg.endsWith('.ndjson') ? resolve(dirArg) : undefined;
    const outputDir = one ? dirname(dirname(one)) : resolve(dirArg ?? context.env.PYROS_OUTPUT ?? context.config.output ?? 'images');
    const journals = one ? [one] : await listJournals(outputDir);
    if (one && !(await pathExists(one))) throw new PyrosError('usage', `There is no journal at ${one}.`, { reason: 'journal-missing', fields: { path: one } });
    if (journals.length === 0) {
      throw new PyrosError('usage', `There is nothing to resume in ${outputDir}: no run kept a journal there.`, { reason: 'journal-missing', fields: { path: outputDir } });
    }
    const open: string[] = [];
    for (const path of journals) if (!(await journalEnded(path))) open.push(path);
    if (open.length === 0) {
      say.line(`nothing to resume: every run in ${outputDir} finished (the last one: ${runName(journals.at(-1) ?? '')})`, { ok: true, finished: true, resumed: 0 });
      return EXIT_CODES.ok;
    }
    let code: number = EXIT_CODES.ok;
    const locked: unknown[] = [];
    for (const path of open) {
      try {
        const result = await resumeJournal(path, { context, flags, outputDir, retries, say });
        if (code === EXIT_CODES.ok) code = result;
      } catch (error) {
        // A run that another live pyros holds (it still runs, or resumes it) is left to it.
        if (!isPyrosError(error) || error.reason !== 'journal-locked') throw error;
        locked.push(error);
      }
    }
    if (locked.length === open.length) throw locked[0];
    for (const error of locked) say.line(`skipped: ${(error as Error).message}`, { ok: false, skipped: (error as PyrosError).fields.path });
    return code;
  } catch (error) {
    say.error(error);
    return exitCodeOf(error);
  }
}

function runName(path: string): string {
  return basename(path).replace(/\.ndjson$/, '');
}

interface ResumeOptions {
  context: CommandContext;
  flags: ResumeFlags;
  outputDir: string;
  retries: number | undefined;
  say: Say;
}

async function resumeJournal(path: string, options: ResumeOptions): Promise<number> {
  const { context, outputDir, say } = options;
  const lock = await FileLock.acquire(lockPathOf(path));
  let journal: RunJournal | undefined;
  let pool: Pool | undefined;
  try {
    const state = await readRunJournal(path);
    const name = state.run.run;
    const pending = state.jobs.filter((job) => !endedForGood(job.done));
    journal = await RunJournal.resume(path, lock, { validBytes: state.validBytes, plans: Math.max(-1, ...state.plans.keys()) + 1 });
    if (state.ended || pending.length === 0) {
      if (!state.ended) await journal.end();
      say.line(`nothing to resume: run ${name} in ${outputDir} finished (${state.jobs.length} job${state.jobs.length === 1 ? '' : 's'})`, { ok: true, finished: true, run: name, resumed: 0 });
      return EXIT_CODES.ok;
    }
    pool = createPool(context, resumeServers(state, context.connection.servers, serversGiven(options.flags, context.env)));
    const plans = new Map<number, RunPlan>();
    for (const [id, entry] of state.plans) {
      const plan = rebuildPlan(entry, outputDir, options.retries);
      plans.set(id, plan);
      journal.knowPlan(plan, id);
    }
    const connected = pool;
    const positions = new Map(state.jobs.map((job, position) => [job, position]));
    const planned: Planned[] = await Promise.all(
      pending.map(async (job) => ({ job, position: positions.get(job) ?? 0, step: await decideStep(job, { clientOf: (server) => connected.clientOf(server) }) })),
    );
    for (const { job, step } of planned) if (step.kind === 'saved') await journal.doneEarlier({ plan: job.plan, job: job.index }, step);
    if (planned.every((entry) => entry.step.kind === 'saved')) {
      // Killed after its last file was saved: only the ends were missing.
      await journal.end();
      say.line(`nothing to resume: run ${name} in ${outputDir} finished (${state.jobs.length} job${state.jobs.length === 1 ? '' : 's'}; the end of ${planned.length} was recorded now)`, {
        ok: true,
        finished: true,
        run: name,
        resumed: 0,
      });
      return EXIT_CODES.ok;
    }
    return await runResumed(state, planned, { context, flags: options.flags, outputDir, pool, journal, plans });
  } finally {
    pool?.removeAllListeners();
    if (journal) await journal.close().catch(() => undefined);
    else await lock.release();
    pool?.close();
    await removeStaleTemps(outputDir);
  }
}


/**
 * `pyros resume [DIR]`: finishes the runs of an output folder that did not end (killed, cut off,
 * interrupted), from their journals. Each job runs once and its files are saved once: a prompt a
 * server still knows is followed by its id and saved (what was saved already is not downloaded
 * again), a job that never reached a server is submitted, a job that ended is left alone. The
 * journal is locked while this runs; a second resume of the same run is refused.
 */
import { basename, join, resolve } from 'node:path';
import type { Pool } from '../../client/pool.ts';
import { PyrosError } from '../../errors.ts';
import { removeStaleTemps, removeTempFilesSync } from '../../outputs/atomic.ts';
import { FileLock } from '../../outputs/lock.ts';
import type { EarlierSaves } from '../../outputs/save-job.ts';
import type { SavedFile } from '../../outputs/save.ts';
import {
  decideStep,
  endedForGood,
  journalEnded,
  listJournals,
  lockPathOf,
  outcomeEndedForGood,
  PipelineJob,
  readRunJournal,
  RunJournal,
  type JobOutcome,
  type JobSpec,
  type JobState,
  type ResumeStep,
  type RunPlan,
  type RunState,
} from '../../pipeline/index.ts';
import { createBatchReporter, summarize } from '../batch/command.ts';
import type { JobEnd } from '../batch/reporter.ts';
import { commandContext, createPool, earlySecrets, insecureWarning, type CommandContext, type CommonFlags } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { isPyrosError } from '../../errors.ts';
import { resumeCommand as resumeWords } from '../journal.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { failureReport } from '../reporters/outcome.ts';
import { JsonReporter } from '../reporters/json.ts';
import { parseRetries } from '../run-settings.ts';
import { onInterrupt } from '../signals.ts';
import { formatErrorBlock } from '../../ui/summary.ts';
import { prepareOptionsOf, rebuildPlan, resumeServers, serversGiven, specOf } from '../resume/rebuild.ts';

export interface ResumeFlags extends CommonFlags {
  retry?: string;
  preview?: string;
}

/** Jobs under way at once per server, as in a batch. */
const WINDOW_PER_SERVER = 4;

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
    const outputDir = resolve(dirArg ?? context.env.PYROS_OUTPUT ?? context.config.output ?? 'images');
    const journals = await listJournals(outputDir);
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
    for (const path of open) {
      const result = await resumeJournal(path, { context, flags, outputDir, retries, say });
      if (code === EXIT_CODES.ok) code = result;
    }
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

/** A job of the journal and what the resume does with it. */
interface Planned {
  job: JobState;
  /** 0-based position in the whole run (its number in the summary). */
  position: number;
  step: ResumeStep;
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
    return await runResumed(state, planned, { ...options, pool, journal, plans });
  } finally {
    pool?.removeAllListeners();
    if (journal) await journal.close().catch(() => undefined);
    else await lock.release();
    pool?.close();
    await removeStaleTemps(outputDir);
  }
}

async function runResumed(
  state: RunState,
  planned: Planned[],
  options: ResumeOptions & { pool: Pool; journal: RunJournal; plans: Map<number, RunPlan> },
): Promise<number> {
  const { context, pool, journal, outputDir } = options;
  const { secrets, verbose } = context;
  const toRun = planned.filter((entry) => entry.step.kind === 'follow' || entry.step.kind === 'submit');
  const waiting = planned.filter((entry) => entry.step.kind === 'waiting');
  const earlier = state.jobs.length - planned.length + planned.filter((entry) => entry.step.kind === 'saved').length;
  const resume = resumeWords(outputDir);
  const reporter = await createBatchReporter(context, { ...options.flags });
  try {
    const warning = insecureWarning(context);
    if (warning) reporter.note(warning, { kind: 'warning' });
    const servers = pool.servers().map((info) => info.server);
    const follows = toRun.filter((entry) => entry.step.kind === 'follow').length;
    reporter.note(
      `resuming run ${state.run.run} in ${outputDir}: ${earlier} of ${state.jobs.length} job${state.jobs.length === 1 ? '' : 's'} had ended; ${follows} to follow on their server${follows === 1 ? '' : 's'}, ${toRun.length - follows} to submit${waiting.length > 0 ? `, ${waiting.length} waiting for a server that does not answer` : ''}`,
      { kind: 'resume', run: state.run.run, ended: earlier, follow: follows, submit: toRun.length - follows, waiting: waiting.length },
    );
    reporter.start({ total: toRun.length, servers, seeds: 'as planned', prompts: 1, count: toRun.length });
    pool.on('server', (info) => reporter.server(info));

    let cancelled = false;
    const active = new Map<number, PipelineJob>();
    const disposeSignal = onInterrupt({
      first: () => {
        cancelled = true;
        reporter.note(`cancelling (press Ctrl-C again to quit at once)… \`${resume}\` goes on later`);
        for (const job of active.values()) job.cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
      },
      second: () => {
        removeTempFilesSync();
        reporter.close();
        process.exit(EXIT_CODES.cancelled);
      },
    });
    const ends: JobEnd[] = [];
    try {
      const running = new Set<Promise<void>>();
      const window = WINDOW_PER_SERVER * servers.length + 2;
      for (const [local, entry] of toRun.entries()) {
        if (cancelled) break;
        while (running.size >= window) await Promise.race(running);
        if (cancelled) break;
        const job = startJob(entry, local, { pool, journal, outputDir, plans: options.plans });
        active.set(local, job);
        reporter.follow(job, { index: local, prompt: entry.job.prompt, seed: entry.job.seed });
        const done = job.result.then((outcome) => {
          active.delete(local);
          const end = endOf(outcome, entry, { verbose, secrets, pool: servers.length > 1 });
          reporter.finished({ ...end, spec: { ...end.spec, index: local } });
          ends.push(end);
          running.delete(done);
        });
        running.add(done);
        await job.queued;
      }
      await Promise.all(running);
    } finally {
      disposeSignal();
    }

    ends.sort((a, b) => a.spec.index - b.spec.index);
    const { lines, data, code } = summarize(ends, { cancelled, total: toRun.length, outputDir });
    const outcomes = ends.map((end) => end.outcome);
    const finished = !cancelled && waiting.length === 0 && outcomes.length === toRun.length && outcomes.every(outcomeEndedForGood);
    if (earlier > 0) lines.push(`${earlier} job${earlier === 1 ? '' : 's'} of this run had ended before; nothing of them was run or saved again`);
    for (const entry of waiting) {
      if (entry.step.kind !== 'waiting') continue;
      lines.push(`job ${entry.position + 1}: prompt ${entry.step.promptId} is on ${entry.step.server}, which does not answer; it is left for a later resume (submitting it elsewhere could run it twice)`);
    }
    if (finished) {
      await journal.end().catch(() => undefined);
      lines.push(`run ${state.run.run} is finished`);
    } else {
      lines.push(`run ${state.run.run} is not finished: \`${resume}\` goes on with it`);
    }
    const result = { ...data, run: state.run.run, ended_before: earlier, waiting: waiting.length, finished, ...(finished ? {} : { resume }) };
    reporter.summary(lines, result);
    if (code === EXIT_CODES.ok && waiting.length > 0) return EXIT_CODES.connection;
    return code;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose, secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    reporter.close();
  }
}

function startJob(entry: Planned, local: number, options: { pool: Pool; journal: RunJournal; outputDir: string; plans: Map<number, RunPlan> }): PipelineJob {
  const { job, step } = entry;
  const context = { pool: options.pool, outputDir: options.outputDir, journal: options.journal };
  const ref = { plan: job.plan, job: job.index };
  if (step.kind === 'follow') {
    return PipelineJob.follow(context, step.promptId, { server: step.server, index: local, ref, earlier: earlierSaves(job, options.outputDir) });
  }
  const plan = options.plans.get(job.plan);
  if (!plan) throw new Error(`plan ${job.plan} of job ${job.index} is not in the journal`);
  return PipelineJob.submit(context, plan, specOf(job), { ref, prepare: prepareOptionsOf(job) });
}

/** What the killed run had saved of a job, and what it was placing, for its resumed save. */
function earlierSaves(job: JobState, outputDir: string): EarlierSaves {
  const saved = new Map<string, SavedFile>();
  for (const [key, entry] of job.saved ?? []) {
    saved.set(key, {
      path: join(outputDir, entry.file),
      bytes: entry.bytes,
      head: Buffer.alloc(0),
      nodeId: entry.node,
      serverName: key.slice(key.lastIndexOf('/') + 1),
      sidecars: entry.sidecars.map((name) => join(outputDir, name)),
    });
  }
  return { saved, placing: job.placing ?? new Map() };
}

/** A job's end for the summary, numbered by its place in the whole run. */
function endOf(outcome: JobOutcome, entry: Planned, options: { verbose: boolean; secrets: readonly string[]; pool: boolean }): JobEnd {
  const spec: JobSpec = { index: entry.position, prompt: entry.job.prompt, seed: entry.job.seed };
  const end: JobEnd = { outcome, spec };
  if (!outcome.ok) {
    const report = failureReport(outcome, options);
    end.error = { ...report, kind: isPyrosError(outcome.error) ? outcome.error.kind : 'internal' };
  }
  return end;
}

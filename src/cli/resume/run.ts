/**
 * The jobs of a resumed run, under way a few at a time like a batch: followed where a server has
 * them, submitted where none ever had them; then the batch summary, with what had ended before
 * and what waits for a server, and the journal ended when every job has.
 */
import { join } from 'node:path';
import type { Pool } from '../../client/pool.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import type { EarlierSaves } from '../../outputs/save-job.ts';
import type { SavedFile } from '../../outputs/save.ts';
import { EndTally, JobEnds, PipelineJob, type JobState, type ResumeStep, type RunJournal, type RunPlan, type RunState } from '../../pipeline/index.ts';
import { createBatchReporter, jobEnd } from '../batch/command.ts';
import { summarize, type SummaryJob } from '../batch/summary.ts';
import { insecureWarning, type CommandContext } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { resumeCommand } from '../journal.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import type { RunFlags } from '../run-settings.ts';
import { onInterrupt } from '../signals.ts';
import { prepareOptionsOf, specOf } from './rebuild.ts';

/** Jobs under way at once per server, as in a batch. */
const WINDOW_PER_SERVER = 4;

/** A job of the journal and what the resume does with it. */
export interface Planned {
  job: JobState;
  /** 0-based position in the whole run (its number in the summary). */
  position: number;
  step: ResumeStep;
}

export interface RunResumedOptions {
  context: CommandContext;
  flags: Pick<RunFlags, 'preview'>;
  outputDir: string;
  pool: Pool;
  journal: RunJournal;
  plans: Map<number, RunPlan>;
}

/** Runs the jobs to follow or submit; returns the exit code. */
export async function runResumed(state: RunState, planned: Planned[], options: RunResumedOptions): Promise<number> {
  const { context, pool, journal, outputDir } = options;
  const { secrets, verbose } = context;
  const toRun = planned.filter((entry) => entry.step.kind === 'follow' || entry.step.kind === 'submit');
  const waiting = planned.filter((entry) => entry.step.kind === 'waiting');
  const earlier = state.jobs.length - planned.length + planned.filter((entry) => entry.step.kind === 'saved').length;
  const resume = resumeCommand(outputDir);
  const reporter = await createBatchReporter(context, { preview: options.flags.preview });
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
    const tally = new EndTally(journal);
    try {
      const running = new Set<Promise<void>>();
      const window = WINDOW_PER_SERVER * servers.length + 2;
      for (const [local, entry] of toRun.entries()) {
        if (cancelled) break;
        while (running.size >= window) await Promise.race(running);
        if (cancelled) break;
        const job = startJob(entry, local, { pool, journal, outputDir, plans: options.plans });
        active.set(local, job);
        const spec = { index: local, prompt: entry.job.prompt, seed: entry.job.seed };
        reporter.follow(job, spec);
        const done = job.result.then((outcome) => {
          active.delete(local);
          tally.add(outcome, { slot: local, ref: { plan: entry.job.plan, job: entry.job.index } });
          reporter.finished(jobEnd(outcome, spec, { verbose, secrets, pool: servers.length > 1 }));
          running.delete(done);
        });
        running.add(done);
        await job.queued;
      }
      await Promise.all(running);
    } finally {
      disposeSignal();
    }

    // This run's ends, read back from the journal from where this process took it over.
    const slots = new Map(toRun.map((entry, local) => [`${entry.job.plan}:${entry.job.index}`, local]));
    const ends = await JobEnds.read({ path: journal.path, from: state.validBytes, slots: toRun.length, slotOf: (plan, job) => slots.get(`${plan}:${job}`), unwritten: tally.unwritten });
    const summary = await summarize({ ends, job: (slot) => summaryJobOf(toRun[slot] as Planned), total: toRun.length, cancelled, outputDir });
    const lines = summary.more;
    const finished = !cancelled && waiting.length === 0 && tally.everyJobEnded(toRun.length);
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
    Object.assign(summary.tail, { run: state.run.run, ended_before: earlier, waiting: waiting.length, finished, ...(finished ? {} : { resume }) });
    await reporter.summary(summary);
    if (summary.code === EXIT_CODES.ok && waiting.length > 0) return EXIT_CODES.connection;
    return summary.code;
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

/** A job of the summary, numbered by its place in the whole run. */
function summaryJobOf(entry: Planned): SummaryJob {
  return { number: entry.position + 1, prompt: entry.job.prompt, seed: entry.job.seed };
}

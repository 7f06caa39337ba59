/**
 * `pyros run` with several jobs (several prompts, `--count`): a batch. The options are checked
 * and the first job prepared before anything is sent; then every job takes the pipeline, a few
 * at a time, over the pool, and is saved as soon as it finishes on whichever server ran it. The
 * summary lists every job once, with its server.
 */
import type { Pool } from '../../client/pool.ts';
import { isPyrosError } from '../../errors.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import { EndTally, JobEnds, prepareJob, runJobs, type JobOutcome, type JobSpec, type RunJournal, type SeedPolicy } from '../../pipeline/index.ts';
import { detectSeeds } from '../../workflow/index.ts';
import { createPool, insecureWarning, type CommandContext } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { finishJournal, resumeCommand, startJournal } from '../journal.ts';
import { reportPatches } from '../patch-notes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { parsePreviewMode } from '../reporters/create.ts';
import { failureReport } from '../reporters/outcome.ts';
import { buildPlan, loadRunWorkflow, type RunFlags, type RunSettings } from '../run-settings.ts';
import { onInterrupt } from '../signals.ts';
import { describeSeedPolicy, expandBatch } from './expand.ts';
import { HumanBatchReporter, JsonBatchReporter, type BatchReporter, type JobEnd } from './reporter.ts';
import { summarize, type SummaryJob } from './summary.ts';
import { CliError } from '../errors/cli-error.ts';

/** Jobs under way at once per server of the pool: enough to keep every server's queue fed. */
const WINDOW_PER_SERVER = 4;

export async function createBatchReporter(context: CommandContext, flags: RunFlags): Promise<BatchReporter> {
  const { verbose, secrets } = context;
  if (context.json) return new JsonBatchReporter({ secrets, verbose });
  const { createBatchDisplay } = await import('../../ui/batch/view.ts');
  const { detectPreview } = await import('../../ui/index.ts');
  const stream = process.stderr;
  const previewMode = parsePreviewMode(flags.preview ?? context.config.preview);
  const preview = stream.isTTY && previewMode !== 'off' ? await detectPreview({ mode: previewMode, stdout: stream }) : 'off';
  return new HumanBatchReporter({
    createDisplay: (total, servers) => createBatchDisplay({ stream, color: context.color, preview, total, servers }),
    verbose,
    secrets,
    color: context.color,
  });
}

/** Options that mean one job: a batch refuses them with the reason. */
function refuseSingleJobOptions(settings: RunSettings, total: number): void {
  if (settings.open) throw new CliError('usage', `--open opens the image of one job; this batch has ${total} jobs.`, { hint: `Browse them all with \`pyros gallery ${settings.outputDir}\`, or run one job with --open.` });
  if (settings.show) throw new CliError('usage', `--show draws the image of one job; this batch has ${total} jobs (the batch view shows each job's preview as it runs).`, { hint: `Browse the results with \`pyros gallery ${settings.outputDir}\`.` });
}

export async function batchCommand(context: CommandContext, settings: RunSettings, flags: RunFlags): Promise<number> {
  const { secrets, verbose } = context;
  const reporter = await createBatchReporter(context, flags);
  let pool: Pool | undefined;
  let disposeSignal: (() => void) | undefined;
  let journal: RunJournal | undefined;
  let everyJobEnded = false;
  try {
    pool = createPool(context);
    const poolClients = pool.clients();
    const input = await loadRunWorkflow(settings, () => poolClients);
    for (const note of input.notes) (input.converted ? reporter.debug(note) : reporter.note(note));
    const workflow = input.workflow;
    const prompts = settings.prompts;
    const count = settings.count;
    let policy: SeedPolicy = settings.seed ?? { kind: 'keep' };
    if (policy.kind === 'keep' && count > 1 && (settings.seedInput !== undefined || detectSeeds(workflow).targets.length > 0)) {
      policy = { kind: 'random' };
      reporter.note(`--count ${count} without --seed: a random seed for every job (--seed N keeps one, --seed N+ counts up)`);
    }
    const specs = expandBatch({ prompts, count, seed: policy });
    refuseSingleJobOptions(settings, specs.length);
    const plan = await buildPlan(settings, workflow, { workflowPath: input.path, total: specs.length, editor: input.editor });
    // The first job is prepared now: an option that does not fit stops the batch before anything is sent.
    const first = await prepareJob(plan, specs[0] as JobSpec);
    reportPatches(reporter, first.patched, { seeds: policy.kind === 'keep' ? undefined : describeSeedPolicy(policy) });

    const warning = insecureWarning(context);
    if (warning) reporter.note(warning, { kind: 'warning' });
    const servers = pool.servers().map((info) => info.server);
    const runJournal = await startJournal(plan.outputDir, 'batch', pool);
    journal = runJournal;
    await runJournal.addJobs(plan, specs);
    const resume = resumeCommand(plan.outputDir);
    reporter.start({ total: specs.length, servers, seeds: describeSeedPolicy(policy), prompts: Math.max(1, prompts.length), count });
    pool.on('server', (info) => reporter.server(info));
    pool.on('duplicate', (info) =>
      reporter.note(`warning: prompt ${info.promptId} (job ${(info.job?.index ?? -1) + 1}) also finished on ${info.server} after it had been moved; its outputs there were not downloaded`, {
        kind: 'duplicate',
        server: info.server,
        prompt_id: info.promptId,
      }),
    );

    let cancelled = false;
    const active = new Map<number, { cancel(): Promise<void> }>();
    disposeSignal = onInterrupt({
      first: () => {
        cancelled = true;
        reporter.note(`cancelling the batch (press Ctrl-C again to quit at once)… \`${resume}\` finishes it later`);
        for (const job of active.values()) job.cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
      },
      second: () => {
        removeTempFilesSync();
        reporter.note(`quit: jobs under way may still run on the servers; \`${resume}\` finishes the batch and saves their outputs`);
        reporter.close();
        process.exit(EXIT_CODES.cancelled);
      },
    });

    // Per job, only those under way are held; the summary is read back from the journal.
    const tally = new EndTally(runJournal);
    await runJobs({ pool, outputDir: plan.outputDir, journal: runJournal }, plan, specs, {
      window: WINDOW_PER_SERVER * servers.length + 2,
      stopped: () => cancelled,
      started: (job) => {
        active.set(job.index, job);
        reporter.follow(job, specs[job.index] as JobSpec);
      },
      finished: (outcome) => {
        active.delete(outcome.index);
        tally.add(outcome, { slot: outcome.index, ref: runJournal.ref(plan, specs[outcome.index] as JobSpec) });
        reporter.finished(jobEnd(outcome, specs[outcome.index] as JobSpec, { verbose, secrets, pool: servers.length > 1 }));
      },
    });
    everyJobEnded = tally.everyJobEnded(specs.length);
    const planId = runJournal.ref(plan, specs[0] as JobSpec).plan;
    const ends = await JobEnds.read({ path: runJournal.path, slots: specs.length, slotOf: (id, index) => (id === planId ? index : undefined), unwritten: tally.unwritten });
    const summary = await summarize({ ends, job: (slot) => summaryJob(specs[slot] as JobSpec), total: specs.length, cancelled, outputDir: plan.outputDir });
    if (!everyJobEnded) {
      summary.more.push(`to finish the jobs that did not run to their end: \`${resume}\``);
      summary.tail.resume = resume;
    }
    await reporter.summary(summary);
    return summary.code;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose, secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal?.();
    await finishJournal(journal, everyJobEnded);
    pool?.removeAllListeners();
    reporter.close();
    pool?.close();
  }
}

/** A finished job with its failure in words, for its line as it ends. */
export function jobEnd(outcome: JobOutcome, spec: JobSpec, options: { verbose: boolean; secrets: readonly string[]; pool: boolean }): JobEnd {
  const end: JobEnd = { outcome, spec };
  if (!outcome.ok) {
    const report = failureReport(outcome, options);
    end.error = { ...report, kind: isPyrosError(outcome.error) ? outcome.error.kind : 'internal' };
  }
  return end;
}

function summaryJob(spec: JobSpec): SummaryJob {
  return { number: spec.index + 1, prompt: spec.prompt, seed: spec.seed };
}

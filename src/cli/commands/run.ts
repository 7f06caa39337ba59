/**
 * `pyros run WORKFLOW`: one job, or a batch (several prompts, `--count`), over one server or a
 * pool. Settles the options once, builds the plan, and hands each job to the pipeline; the
 * batch front end lives in ../batch/command.ts.
 */
import type { Pool } from '../../client/pool.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import { outcomeEndedForGood, PipelineJob, prepareJob, type JobOutcome, type JobSpec, type RunJournal, type SeedPolicy } from '../../pipeline/index.ts';
import { randomSeed } from '../../workflow/index.ts';
import { commandContext, createPool, earlySecrets, insecureWarning } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { finishJournal, resumeCommand, startJournal } from '../journal.ts';
import { openInViewer } from '../open-file.ts';
import { lastImage } from '../saved-images.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import { narrateJob } from '../reporters/narrate.ts';
import { failureReport, successReport } from '../reporters/outcome.ts';
import { buildPlan, loadRunWorkflow, resolveRunSettings, type RunFlags, type RunSettings } from '../run-settings.ts';
import { onInterrupt } from '../signals.ts';

export type { RunFlags } from '../run-settings.ts';

/** The jobs a run's options make: every prompt × --count. */
export function jobCount(settings: Pick<RunSettings, 'prompts' | 'count'>): number {
  return Math.max(1, settings.prompts.length) * settings.count;
}

/** The one seed of a single job. */
export function singleSeed(policy: SeedPolicy | undefined): number | undefined {
  if (!policy || policy.kind === 'keep') return undefined;
  if (policy.kind === 'random') return randomSeed();
  return policy.kind === 'fixed' ? policy.value : policy.start;
}

export async function runCommand(workflowArg: string | undefined, flags: RunFlags): Promise<number> {
  const secrets = earlySecrets(flags);
  const early = await (async () => {
    try {
      const context = await commandContext(flags, secrets);
      return { context, settings: await resolveRunSettings(workflowArg, flags, context) };
    } catch (error) {
      return { error };
    }
  })();
  if ('settings' in early && early.settings && jobCount(early.settings) > 1) {
    const { batchCommand } = await import('../batch/command.ts');
    return batchCommand(early.context, early.settings, flags);
  }
  const reporter = await createReporter(flags, secrets);
  const verbose = Boolean(flags.verbose);
  if ('error' in early) {
    reporter.error(errorBlock(early.error, { verbose, secrets }), errorEvent(early.error, secrets));
    reporter.close();
    return exitCodeOf(early.error);
  }
  const { context, settings } = early;
  let disposeSignal: (() => void) | undefined;
  let pool: Pool | undefined;
  let journal: RunJournal | undefined;
  const outcomes: JobOutcome[] = [];
  try {
    pool = createPool(context);
    const poolClients = pool.clients();
    const input = await loadRunWorkflow(settings, () => poolClients);
    for (const note of input.notes) (input.converted ? reporter.debug(note) : reporter.note(note));
    const plan = await buildPlan(settings, input.workflow, { workflowPath: input.path, total: 1, editor: input.editor });
    const spec: JobSpec = { index: 0, prompt: settings.prompts[0], seed: singleSeed(settings.seed) };
    const warning = insecureWarning(context);
    if (warning) reporter.note(warning, { kind: 'warning' });
    const servers = pool.servers().map((info) => info.server);
    // Prepared first: an option or a variable that does not fit stops the run before anything is written or sent.
    const prepared = await prepareJob(plan, spec);
    journal = await startJournal(plan.outputDir, 'run', pool);
    await journal.addJobs(plan, [spec]);
    const job = PipelineJob.submit({ pool, outputDir: plan.outputDir, journal }, plan, spec, { prepared });
    narrateJob(job, reporter, { connectingTo: servers.length === 1 ? servers[0] : `${servers.length} servers` });
    const resume = resumeCommand(plan.outputDir);
    disposeSignal = onInterrupt({
      first: () => {
        reporter.phase('cancelling');
        reporter.note(`cancelling this job (press Ctrl-C again to quit at once)… \`${resume}\` runs it again later`);
        job.cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
      },
      second: () => {
        removeTempFilesSync();
        reporter.note(`quit: the job may still run on the server; \`${resume}\` finishes it and saves its outputs`);
        reporter.close();
        process.exit(EXIT_CODES.cancelled);
      },
    });
    const outcome = await job.result;
    outcomes.push(outcome);
    if (!outcome.ok) {
      const { block, event } = failureReport(outcome, { verbose, secrets, pool: servers.length > 1 });
      reporter.error(block, event);
      return exitCodeOf(outcome.error);
    }
    const report = successReport(outcome, plan.outputDir);
    reporter.result(report.lines, report.data);
    const image = lastImage(outcome.files);
    if (settings.open && image) {
      const opened = await openInViewer(image.path);
      if (!opened.ok) reporter.note(opened.message);
    }
    return EXIT_CODES.ok;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose, secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal?.();
    await finishJournal(journal, outcomes.length === 1 && outcomes.every(outcomeEndedForGood));
    reporter.close();
    pool?.close();
  }
}

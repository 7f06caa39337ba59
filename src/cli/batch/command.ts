/**
 * `pyros run` with several jobs (several prompts, `--count`): a batch. The options are checked
 * and the first job prepared before anything is sent; then every job takes the pipeline, a few
 * at a time, over the pool, and is saved as soon as it finishes on whichever server ran it. The
 * summary lists every job once, with its server.
 */
import type { Pool } from '../../client/pool.ts';
import { isPyrosError } from '../../errors.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import { outcomeEndedForGood, prepareJob, runJobs, type JobOutcome, type JobSpec, type RunJournal, type SeedPolicy } from '../../pipeline/index.ts';
import { detectSeeds } from '../../workflow/index.ts';
import { createPool, insecureWarning, type CommandContext } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { finishJournal, resumeCommand, startJournal } from '../journal.ts';
import { reportPatches } from '../patch-notes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { parsePreviewMode } from '../reporters/create.ts';
import { failureReport, filesSummary } from '../reporters/outcome.ts';
import { buildPlan, loadRunWorkflow, type RunFlags, type RunSettings } from '../run-settings.ts';
import { onInterrupt } from '../signals.ts';
import { describeSeedPolicy, expandBatch } from './expand.ts';
import { HumanBatchReporter, JsonBatchReporter, shortHost, type BatchReporter, type JobEnd } from './reporter.ts';
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
  let outcomes: JobOutcome[] = [];
  let total = 0;
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
    journal = await startJournal(plan.outputDir, 'batch', pool);
    await journal.addJobs(plan, specs);
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

    const ends: JobEnd[] = [];
    await runJobs({ pool, outputDir: plan.outputDir, journal }, plan, specs, {
      window: WINDOW_PER_SERVER * servers.length + 2,
      stopped: () => cancelled,
      started: (job) => {
        active.set(job.index, job);
        reporter.follow(job, specs[job.index] as JobSpec);
      },
      finished: (outcome) => {
        active.delete(outcome.index);
        const spec = specs[outcome.index] as JobSpec;
        const end: JobEnd = { outcome, spec };
        if (!outcome.ok) {
          const report = failureReport(outcome, { verbose, secrets, pool: servers.length > 1 });
          end.error = { ...report, kind: isPyrosError(outcome.error) ? outcome.error.kind : 'internal' };
        }
        ends.push(end);
        reporter.finished(end);
      },
    });
    ends.sort((a, b) => a.spec.index - b.spec.index);
    total = specs.length;
    outcomes = ends.map((end) => end.outcome);
    const { lines, data, code } = summarize(ends, { cancelled, total: specs.length, outputDir: plan.outputDir });
    if (outcomes.length < total || !outcomes.every(outcomeEndedForGood)) {
      lines.push(`to finish the jobs that did not run to their end: \`${resume}\``);
      data.resume = resume;
    }
    reporter.summary(lines, data);
    return code;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose, secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal?.();
    await finishJournal(journal, outcomes, total);
    pool?.removeAllListeners();
    reporter.close();
    pool?.close();
  }
}

/**
 * The closing summary: one row per job (its server, seed, files or error), the totals, and the
 * exit code: 0 when every job succeeded, 10 when some failed, the failure's own code when all
 * failed the same way (e.g. 3: no server reachable), 130 when cancelled.
 */
export function summarize(ends: JobEnd[], options: { cancelled: boolean; total: number; outputDir: string }): { lines: string[]; data: Record<string, unknown>; code: number } {
  const failed = ends.filter((end) => !end.outcome.ok);
  const succeeded = ends.length - failed.length;
  const files = ends.flatMap((end) => end.outcome.files);
  const promptOf = (end: JobEnd): string | undefined => end.outcome.record?.prompt?.text ?? end.spec.prompt;
  const prompts = new Set(ends.map(promptOf));
  const hostWidth = Math.max(6, ...ends.map((end) => shortHost(end.outcome.server).length));
  const seedWidth = Math.max(4, ...ends.map((end) => String(end.spec.seed ?? '-').length));
  const numberWidth = String(options.total).length + 1;
  const lines = [`${'job'.padEnd(numberWidth)}  ${'server'.padEnd(hostWidth)}  ${'seed'.padEnd(seedWidth)}  result`];
  for (const end of ends) {
    const { outcome, spec } = end;
    const prompt = prompts.size > 1 && promptOf(end) !== undefined ? ` "${clip(promptOf(end) as string, 40)}"` : '';
    const moved = outcome.attempts.filter((attempt) => attempt.outcome === 'moved').map((attempt) => shortHost(attempt.server));
    const note = moved.length > 0 ? ` (moved off ${moved.join(', ')})` : '';
    const texts = outcome.ok ? outcome.result.texts.flatMap((text) => text.values) : [];
    const result = outcome.ok
      ? `${outcome.files.map((file) => file.path).join(', ') || 'no files'}${texts.length > 0 ? ` · text: ${clip(texts.join(' | '), 60)}` : ''}`
      : `✖ ${end.error?.block.title ?? 'failed'}${outcome.files.length > 0 ? ` (kept: ${outcome.files.map((file) => file.path).join(', ')})` : ''}`;
    lines.push(`${String(spec.index + 1).padEnd(numberWidth)}  ${shortHost(outcome.server).padEnd(hostWidth)}  ${String(spec.seed ?? '-').padEnd(seedWidth)}  ${result}${prompt}${note}`);
  }
  const kinds = new Set(failed.map((end) => end.error?.kind));
  const notRun = options.total - ends.length;
  let code: number = EXIT_CODES.ok;
  if (options.cancelled) code = EXIT_CODES.cancelled;
  else if (failed.length > 0 && succeeded === 0 && kinds.size === 1) code = (failed[0]?.error?.event.exit_code as number | undefined) ?? EXIT_CODES.partial;
  else if (failed.length > 0) code = EXIT_CODES.partial;
  const jobs = `${options.total} job${options.total === 1 ? '' : 's'}`;
  const totals = `${succeeded === options.total ? 'done' : options.cancelled ? 'cancelled' : 'finished'}: ${succeeded} of ${jobs} succeeded${failed.length > 0 ? `, ${failed.length} failed` : ''}${notRun > 0 ? `, ${notRun} not run` : ''}; ${files.length} file${files.length === 1 ? '' : 's'} saved in ${options.outputDir}`;
  lines.push(totals);
  if (failed.length > 0) {
    const fetchable = failed.filter((end) => end.outcome.server && end.error?.kind !== 'connection' && end.error?.kind !== 'rejected');
    if (fetchable.length > 0) lines.push(`hint: what a failed job left on its server can be fetched with \`pyros fetch PROMPT_ID --server SERVER\` (prompt ids in --json, or below)`);
    for (const end of fetchable) lines.push(`  job ${end.spec.index + 1}: pyros fetch ${end.outcome.promptId} --server ${end.outcome.server}`);
  }
  const data = {
    ok: failed.length === 0 && !options.cancelled && notRun === 0,
    total: options.total,
    succeeded,
    failed: failed.length,
    exit_code: code,
    jobs: ends.map((end) => ({
      job: end.spec.index + 1,
      ok: end.outcome.ok,
      server: end.outcome.server ?? null,
      prompt_id: end.outcome.promptId,
      prompt: promptOf(end),
      seed: end.spec.seed,
      files: filesSummary(end.outcome.files),
      attempts: end.outcome.attempts,
      error: end.outcome.ok ? undefined : { kind: end.error?.kind, message: end.error?.event.message },
    })),
  };
  return { lines, data, code };
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

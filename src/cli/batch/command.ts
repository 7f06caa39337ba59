/**
 * `pyros run WF --count N`, several prompts, or several servers: a batch. Every job is patched
 * up front (a bad option fails before anything is sent), handed to a Pool, and saved as soon as
 * it finishes on whichever server ran it. The summary lists every job once, with its server.
 */
import type { PoolJob, PoolJobResult } from '../../client/pool.ts';
import { Pool } from '../../client/pool.ts';
import { partialOutputsOf } from '../../client/job-errors.ts';
import { isPyrosError } from '../../errors.ts';
import type { SavedFile } from '../../outputs/save.ts';
import { detectSeeds, loadWorkflow } from '../../workflow/index.ts';
import { parseDuration } from '../durations.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { planJob, type RunPlan } from '../run-plan.ts';
import { resolveRunSettings } from '../run-plan.ts';
import { buildSaveContext, filesSummary, saveAllOutputs, savePartialOutputs, timingsOf } from '../save-results.ts';
import { loadSettings, resolveConnection, secretsOf, type CommonFlags } from '../settings.ts';
import { onInterrupt } from '../signals.ts';
import { describeSeedPolicy, expandBatch, parseCount, parseSeedPolicy, readPromptsFile, type BatchItem } from './expand.ts';
import { HumanBatchReporter, JsonBatchReporter, type BatchReporter, type JobOutcome } from './reporter.ts';

export interface BatchFlags extends CommonFlags {
  prompt?: string[];
  prompts?: string;
  count?: string;
  seed?: string;
  promptInput?: string;
  seedInput?: string;
  set?: string[];
  output?: string;
  timeout?: string;
  preview?: string;
}

/** Downloads that fail because the server went away are run again elsewhere, this many times at most. */
const SAVE_ATTEMPTS = 3;

async function createBatchReporter(flags: BatchFlags, secrets: readonly string[]): Promise<BatchReporter> {
  const verbose = Boolean(flags.verbose);
  if (flags.json) return new JsonBatchReporter({ secrets, verbose });
  const { createBatchDisplay } = await import('../../ui/batch/view.ts');
  const { detectPreview } = await import('../../ui/index.ts');
  const { parsePreviewMode } = await import('../reporters/create.ts');
  const stream = process.stderr;
  const color = flags.color !== false;
  const previewMode = parsePreviewMode(flags.preview);
  const preview = stream.isTTY && previewMode !== 'off' ? await detectPreview({ mode: previewMode, stdout: stream }) : 'off';
  return new HumanBatchReporter({
    createDisplay: (total, servers) => createBatchDisplay({ stream, color, preview, total, servers }),
    verbose,
    secrets,
    color,
  });
}

/** The Reporter the save functions expect, for one job of the batch. */
function jobReporter(reporter: BatchReporter, item: BatchItem, server: string, files: SavedFile[]): Reporter {
  return {
    note: (message) => reporter.note(message),
    debug: (message) => reporter.debug(message),
    phase: () => undefined,
    follow: () => undefined,
    saved: (file) => {
      files.push(file);
      reporter.saved(item, file, server);
    },
    result: () => undefined,
    error: () => undefined,
    close: () => undefined,
  };
}

export async function batchCommand(workflowArg: string | undefined, flags: BatchFlags): Promise<number> {
  const secrets = secretsOf(resolveConnection(flags, {}));
  const reporter = await createBatchReporter(flags, secrets);
  const verbose = Boolean(flags.verbose);
  let pool: Pool | undefined;
  let disposeSignal: (() => void) | undefined;
  try {
    const { config, connection } = await loadSettings(flags);
    secrets.push(...secretsOf(connection));
    const settings = resolveRunSettings(workflowArg, { ...flags, prompt: undefined }, config);
    const requestTimeoutMs = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : undefined;
    const workflow = await loadWorkflow(settings.workflowPath);
    const prompts = [...(flags.prompt ?? []), ...(flags.prompts ? await readPromptsFile(flags.prompts) : [])];
    const count = parseCount(flags.count);
    let policy = parseSeedPolicy(flags.seed);
    if (policy.kind === 'keep' && count > 1 && (settings.seedInput !== undefined || detectSeeds(workflow).targets.length > 0)) {
      policy = { kind: 'random' };
      reporter.note(`--count ${count} without --seed: a random seed for every job (--seed N keeps one, --seed N+ counts up)`);
    }
    const items = expandBatch({ prompts, count, seed: policy });
    const plans = items.map((item) => planJob(workflow, settings, { prompt: item.prompt, seed: item.seed }));
    describePatches(reporter, plans[0] as RunPlan, policy.kind === 'keep' ? undefined : describeSeedPolicy(policy));

    pool = new Pool({ servers: connection.servers, headers: connection.headers, token: connection.token, insecure: connection.insecure, requestTimeoutMs });
    const servers = pool.servers().map((info) => info.server);
    reporter.start({ total: items.length, servers, seeds: describeSeedPolicy(policy), prompts: Math.max(1, prompts.length), count });
    pool.on('server', (info) => reporter.server(info));
    pool.on('duplicate', (info) =>
      reporter.note(`warning: prompt ${info.promptId} (job ${(info.job?.index ?? -1) + 1}) also finished on ${info.server} after it had been moved; its outputs there were not downloaded`, {
        kind: 'duplicate',
        server: info.server,
        prompt_id: info.promptId,
      }),
    );

    const active = new Set<PoolJob>();
    let cancelled = false;
    disposeSignal = onInterrupt({
      first: () => {
        cancelled = true;
        reporter.note('cancelling the batch (press Ctrl-C again to quit at once)…');
        for (const job of active) job.cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
      },
      second: () => {
        reporter.close();
        process.exit(EXIT_CODES.cancelled);
      },
    });

    const runItem = async (item: BatchItem, plan: RunPlan): Promise<JobOutcome> => {
      let last: JobOutcome | undefined;
      for (let attempt = 1; attempt <= SAVE_ATTEMPTS && !cancelled; attempt++) {
        const job = (pool as Pool).run(plan.patched.workflow, { timeoutMs: plan.timeoutMs });
        active.add(job);
        reporter.follow(job, item);
        const files: SavedFile[] = [];
        let result: PoolJobResult | undefined;
        try {
          result = await job.result;
          reporter.saving(item);
          const context = buildSaveContext({ dir: plan.outputDir, patched: plan.patched, workflowPath: plan.workflowPath, server: result.server, promptId: result.promptId });
          context.metadata.timings = timingsOf(result);
          context.metadata.batch = { job: item.index + 1, of: items.length };
          await saveAllOutputs(result.client, result, context, jobReporter(reporter, item, result.server, files));
          return {
            item,
            ok: true,
            server: result.server,
            promptId: result.promptId,
            files,
            attempts: result.attempts,
            texts: result.texts.flatMap((text) => text.values),
          };
        } catch (error) {
          const server = result?.server ?? job.server;
          if (!result) {
            // The job failed on its server: keep what it produced.
            const client = server ? (pool as Pool).clientOf(server) : undefined;
            const partial = partialOutputsOf(error);
            if (server && client && partial.length > 0) {
              const context = buildSaveContext({ dir: plan.outputDir, patched: plan.patched, workflowPath: plan.workflowPath, server, promptId: job.promptId });
              await savePartialOutputs(client, partial, context, jobReporter(reporter, item, server, files));
            }
          }
          last = {
            item,
            ok: false,
            server,
            promptId: result?.promptId ?? job.promptId,
            files,
            attempts: result?.attempts ?? job.attempts,
            texts: [],
            error: { block: errorBlock(error, { verbose, secrets, workflow: plan.patched.workflow }), event: errorEvent(error, secrets), kind: isPyrosError(error) ? error.kind : 'internal' },
          };
          // Finished, but its server went away before the files were down: run it again elsewhere.
          const lostDownload = result !== undefined && isPyrosError(error) && error.kind === 'connection';
          if (!lostDownload) return last;
          reporter.note(`[${item.index + 1}/${items.length}] downloading from ${server} failed (${(error as Error).message}); running the job again`);
        } finally {
          active.delete(job);
        }
      }
      return last as JobOutcome;
    };

    const outcomes = await Promise.all(
      items.map(async (item, index) => {
        const outcome = await runItem(item, plans[index] as RunPlan);
        reporter.finished(outcome);
        return outcome;
      }),
    );
    const { lines, data, code } = summarize(outcomes, { cancelled, outputDir: settings.outputDir });
    reporter.summary(lines, data);
    return code;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose, secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal?.();
    reporter.close();
    pool?.close();
  }
}

/** Tells once what every job sets: the prompt input, the seed inputs (with the policy), --set. */
function describePatches(reporter: BatchReporter, plan: RunPlan, seeds: string | undefined): void {
  const { prompt, seeds: targets, sets } = plan.patched.applied;
  if (prompt) reporter.note(`prompt → #${prompt.nodeId} "${prompt.title}".${prompt.input}${prompt.detected ? ' (detected)' : ''}`, { kind: 'prompt', node_id: prompt.nodeId, input: prompt.input });
  if (seeds) {
    for (const seed of targets) {
      reporter.note(`seed → #${seed.nodeId} "${seed.title}".${seed.input}${seed.detected ? ' (detected)' : ''}: ${seeds}`, { kind: 'seed', node_id: seed.nodeId, input: seed.input });
    }
  }
  for (const set of sets) reporter.note(`set #${set.nodeId} "${set.title}".${set.input} = ${JSON.stringify(set.value)}`, { kind: 'set', node_id: set.nodeId, input: set.input, value: set.value });
  for (const note of plan.patched.notes) reporter.note(note);
}

/**
 * The closing summary: one row per job (its server, seed, files or error), the totals, and the
 * exit code: 0 when every job succeeded, 10 when some failed, the failure's own code when all
 * failed the same way (e.g. 3: no server reachable), 130 when cancelled.
 */
export function summarize(
  outcomes: JobOutcome[],
  options: { cancelled: boolean; outputDir: string },
): { lines: string[]; data: Record<string, unknown>; code: number } {
  const failed = outcomes.filter((outcome) => !outcome.ok);
  const succeeded = outcomes.length - failed.length;
  const files = outcomes.flatMap((outcome) => outcome.files);
  const prompts = new Set(outcomes.map((outcome) => outcome.item.prompt));
  const hostWidth = Math.max(6, ...outcomes.map((outcome) => host(outcome.server).length));
  const seedWidth = Math.max(4, ...outcomes.map((outcome) => String(outcome.item.seed ?? '-').length));
  const numberWidth = String(outcomes.length).length + 1;
  const lines = [`${'job'.padEnd(numberWidth)}  ${'server'.padEnd(hostWidth)}  ${'seed'.padEnd(seedWidth)}  result`];
  for (const outcome of outcomes) {
    const prompt = prompts.size > 1 && outcome.item.prompt !== undefined ? ` "${clip(outcome.item.prompt, 40)}"` : '';
    const moved = outcome.attempts.filter((attempt) => attempt.outcome === 'moved').map((attempt) => host(attempt.server));
    const note = moved.length > 0 ? ` (moved off ${moved.join(', ')})` : '';
    const result = outcome.ok
      ? `${outcome.files.map((file) => file.path).join(', ') || 'no files'}${outcome.texts.length > 0 ? ` · text: ${clip(outcome.texts.join(' | '), 60)}` : ''}`
      : `✖ ${outcome.error?.block.title ?? 'failed'}${outcome.files.length > 0 ? ` (kept: ${outcome.files.map((file) => file.path).join(', ')})` : ''}`;
    lines.push(`${String(outcome.item.index + 1).padEnd(numberWidth)}  ${host(outcome.server).padEnd(hostWidth)}  ${String(outcome.item.seed ?? '-').padEnd(seedWidth)}  ${result}${prompt}${note}`);
  }
  const kinds = new Set(failed.map((outcome) => outcome.error?.kind));
  let code: number = EXIT_CODES.ok;
  if (options.cancelled) code = EXIT_CODES.cancelled;
  else if (failed.length > 0 && succeeded === 0 && kinds.size === 1) code = (failed[0]?.error?.event.exit_code as number | undefined) ?? EXIT_CODES.partial;
  else if (failed.length > 0) code = EXIT_CODES.partial;
  const totals = `${succeeded === outcomes.length ? 'done' : options.cancelled ? 'cancelled' : 'finished'}: ${succeeded} of ${outcomes.length} job${outcomes.length === 1 ? '' : 's'} succeeded${failed.length > 0 ? `, ${failed.length} failed` : ''}; ${files.length} file${files.length === 1 ? '' : 's'} saved in ${options.outputDir}`;
  lines.push(totals);
  if (failed.length > 0) {
    const fetchable = failed.filter((outcome) => outcome.server && outcome.error?.kind !== 'connection' && outcome.error?.kind !== 'rejected');
    if (fetchable.length > 0) lines.push(`hint: what a failed job left on its server can be fetched with \`pyros fetch PROMPT_ID --server SERVER\` (prompt ids in --json, or below)`);
    for (const outcome of fetchable) lines.push(`  job ${outcome.item.index + 1}: pyros fetch ${outcome.promptId} --server ${outcome.server}`);
  }
  const data = {
    ok: failed.length === 0 && !options.cancelled,
    total: outcomes.length,
    succeeded,
    failed: failed.length,
    exit_code: code,
    jobs: outcomes.map((outcome) => ({
      job: outcome.item.index + 1,
      ok: outcome.ok,
      server: outcome.server ?? null,
      prompt_id: outcome.promptId,
      prompt: outcome.item.prompt,
      seed: outcome.item.seed,
      files: filesSummary(outcome.files),
      attempts: outcome.attempts,
      error: outcome.ok ? undefined : { kind: outcome.error?.kind, message: outcome.error?.event.message },
    })),
  };
  return { lines, data, code };
}

function host(server: string | undefined): string {
  return (server ?? '-').replace(/^http:\/\//, '');
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

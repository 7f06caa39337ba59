/**
 * `pyros fetch PROMPT_ID`: follows a prompt that already ran (or still runs) on the server, and
 * saves its outputs exactly as the run that submitted it would have: the same files, the same
 * `.txt` and `.json` sidecars (from what the prompt carries, else from its workflow).
 */
import type { Pool } from '../../client/pool.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import { PipelineJob } from '../../pipeline/index.ts';
import { CliError } from '../errors/cli-error.ts';
import { commandContext, createPool, earlySecrets, insecureWarning, type CommonFlags } from '../context.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import { narrateJob } from '../reporters/narrate.ts';
import { failureReport, successReport } from '../reporters/outcome.ts';
import { onInterrupt } from '../signals.ts';
import { resolve } from 'node:path';

export interface FetchFlags extends CommonFlags {
  output?: string;
  wait?: boolean;
}

/** With --no-wait: a prompt that has not finished is a usage error (exit 2), not something to wait for. */
async function requireFinished(pool: Pool, promptId: string): Promise<void> {
  for (const info of pool.servers()) {
    const client = pool.clientOf(info.server);
    if (!client) continue;
    const history = await client.api.history(promptId).catch(() => undefined);
    if (history) return;
    const queue = await client.api.queue().catch(() => undefined);
    const running = queue?.running.some((entry) => entry.promptId === promptId);
    const pending = queue?.pending.some((entry) => entry.promptId === promptId);
    if (running || pending) {
      throw new CliError('usage', `Prompt ${promptId} has not finished yet (${running ? 'running' : 'queued'}).`, { hint: 'Run again later, or drop --no-wait to wait for it.' });
    }
  }
}

export async function fetchCommand(promptId: string, flags: FetchFlags): Promise<number> {
  const secrets = earlySecrets(flags);
  const reporter = await createReporter({ ...flags, preview: 'off' }, secrets);
  const verbose = Boolean(flags.verbose);
  let pool: Pool | undefined;
  // Nothing of ours runs on the server: Ctrl-C stops the downloads at once, removing any partial file.
  const disposeSignal = onInterrupt({
    first: () => {
      removeTempFilesSync();
      reporter.close();
      process.exit(EXIT_CODES.cancelled);
    },
    second: () => process.exit(EXIT_CODES.cancelled),
  });
  try {
    const context = await commandContext(flags, secrets);
    const outputDir = resolve(flags.output ?? context.env.PYROS_OUTPUT ?? context.config.output ?? 'images');
    pool = createPool(context);
    const warning = insecureWarning(context);
    if (warning) reporter.note(warning, { kind: 'warning' });
    if (flags.wait === false) await requireFinished(pool, promptId);
    const servers = pool.servers().map((info) => info.server);
    const job = PipelineJob.follow({ pool, outputDir }, promptId);
    narrateJob(job, reporter, { connectingTo: servers.length === 1 ? servers[0] : `${servers.length} servers` });
    const outcome = await job.result;
    if (!outcome.ok) {
      const { block, event } = failureReport(outcome, { verbose, secrets, pool: servers.length > 1 });
      reporter.error(block, event);
      return exitCodeOf(outcome.error);
    }
    const report = successReport(outcome, outputDir);
    reporter.result(report.lines, report.data);
    return EXIT_CODES.ok;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose, secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal();
    reporter.close();
    pool?.close();
  }
}

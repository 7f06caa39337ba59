/**
 * `pyros run WORKFLOW`: patch, submit, follow, download, save. Wires settings, the workflow
 * layer, the client and the display together; the protocol lives in src/client.
 */
import type { Client } from '../../client/client.ts';
import type { ApiWorkflow } from '../../client/types.ts';
import { parseDuration } from '../durations.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import { outcomeReport, startJob } from '../run-job.ts';
import { loadPlan, reportPatches, resolveRunSettings, type RunSettingsFlags } from '../run-plan.ts';
import { clientFor, loadSettings, resolveConnection, secretsOf, singleServer, type CommonFlags } from '../settings.ts';
import { onInterrupt } from '../signals.ts';

export interface RunFlags extends CommonFlags, Omit<RunSettingsFlags, 'prompt'> {
  preview?: string;
  /** Repeatable: several prompts make a batch. */
  prompt?: string[];
  prompts?: string;
  count?: string;
}

export async function runCommand(workflowArg: string | undefined, flags: RunFlags): Promise<number> {
  const { wantsBatch } = await import('../batch/wants.ts');
  if (await wantsBatch(flags)) {
    const { batchCommand } = await import('../batch/command.ts');
    return batchCommand(workflowArg, flags);
  }
  const secrets = secretsOf(resolveConnection(flags, {}));
  const reporter = await createReporter(flags, secrets);
  let workflow: ApiWorkflow | undefined;
  let client: Client | undefined;
  let disposeSignal: (() => void) | undefined;
  try {
    const { config, connection } = await loadSettings(flags);
    secrets.push(...secretsOf(connection));
    const settings = resolveRunSettings(workflowArg, { ...flags, prompt: flags.prompt?.[0] }, config);
    const requestTimeoutMs = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : undefined;
    const plan = await loadPlan(settings, { prompt: flags.prompt?.[0], seed: flags.seed });
    workflow = plan.patched.workflow;
    reportPatches(reporter, plan.patched);

    client = clientFor(connection, singleServer(connection, 'pyros run'), requestTimeoutMs);
    const { job, done } = startJob(client, plan, reporter);
    disposeSignal = onInterrupt({
      first: () => {
        reporter.phase('cancelling');
        reporter.note('cancelling this job (press Ctrl-C again to quit at once)…');
        job.cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
      },
      second: () => {
        reporter.close();
        process.exit(EXIT_CODES.cancelled);
      },
    });
    const report = outcomeReport(await done, plan, client.endpoint.display);
    reporter.result(report.lines, report.data);
    return EXIT_CODES.ok;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose: Boolean(flags.verbose), secrets, workflow }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal?.();
    reporter.close();
    client?.close();
  }
}

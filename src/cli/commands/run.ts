/**
 * `pyros run WORKFLOW`: patch, submit, follow, download, save. Wires settings, the workflow
 * layer, the client and the display together; the protocol lives in src/client.
 */
import type { Client } from '../../client/client.ts';
import type { ApiWorkflow } from '../../client/types.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import { parseDuration } from '../durations.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { openInViewer } from '../open-file.ts';
import { prepareRun } from '../prepare-run.ts';
import { reportExpansion, variableDirsFor } from '../prompt-variables.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import { parseRetries, runWithRetries } from '../retry.ts';
import { outcomeReport } from '../run-job.ts';
import { reportPatches, resolveRunSettings, type RunSettingsFlags } from '../run-plan.ts';
import { clientFor, insecureWarning, loadSettings, resolveConnection, secretsOf, singleServer, type CommonFlags } from '../settings.ts';
import { onInterrupt } from '../signals.ts';
import { uploadInputs } from '../uploads.ts';

export interface RunFlags extends CommonFlags, Omit<RunSettingsFlags, 'prompt'> {
  preview?: string;
  show?: boolean;
  open?: boolean;
  vars?: string;
  input?: string[];
  retry?: string;
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
    const retries = parseRetries(flags.retry);
    const { plan, uploads, expansion } = await prepareRun(settings, { prompt: flags.prompt?.[0], seed: flags.seed, inputs: flags.input }, () => variableDirsFor(flags, config));
    workflow = plan.patched.workflow;
    reportPatches(reporter, plan.patched);
    reportExpansion(reporter, expansion);

    client = clientFor(connection, singleServer(connection, 'pyros run'), requestTimeoutMs);
    const warning = insecureWarning(connection);
    if (warning) reporter.note(warning, { kind: 'warning' });
    await uploadInputs(client, plan, uploads, reporter);
    const run = runWithRetries(client, plan, reporter, retries);
    const done = run.done;
    disposeSignal = onInterrupt({
      first: () => {
        reporter.phase('cancelling');
        reporter.note('cancelling this job (press Ctrl-C again to quit at once)…');
        run.stop();
        run.current().cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
      },
      second: () => {
        removeTempFilesSync();
        reporter.close();
        process.exit(EXIT_CODES.cancelled);
      },
    });
    const outcome = await done;
    const report = outcomeReport(outcome, plan, client.endpoint.display);
    reporter.result(report.lines, report.data);
    const first = outcome.saved[0];
    if (flags.open && first) {
      const opened = await openInViewer(first.path);
      if (!opened.ok) reporter.note(opened.message);
    }
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

/**
 * `pyros fetch PROMPT_ID`: downloads the outputs of a prompt that already ran (or waits for one
 * still queued), with the same saving rules as `pyros run`, so a killed client loses nothing.
 */
import { resolve } from 'node:path';
import { collectOutputs } from '../../client/outputs.ts';
import type { HistoryEntry } from '../../client/schemas-http.ts';
import type { ApiWorkflow } from '../../client/types.ts';
import type { Client } from '../../client/client.ts';
import { CliError } from '../errors/cli-error.ts';
import { applyPatches, type PatchResult } from '../../workflow/index.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { buildSaveContext, filesSummary, saveAllOutputs } from '../save-results.ts';
import { parseDuration } from '../durations.ts';
import { removeTempFilesSync } from '../../outputs/atomic.ts';
import { onInterrupt } from '../signals.ts';
import { clientFor, insecureWarning, loadSettings, resolveConnection, secretsOf, singleServer, type CommonFlags } from '../settings.ts';

export interface FetchFlags extends CommonFlags {
  output?: string;
  wait?: boolean;
}

const POLL_MS = 1000;

async function waitForHistory(client: Client, promptId: string, wait: boolean, reporter: Reporter): Promise<HistoryEntry> {
  for (;;) {
    const history = await client.api.history(promptId);
    if (history) return history;
    const queue = await client.api.queue();
    const running = queue.running.some((entry) => entry.promptId === promptId);
    const pending = queue.pending.find((entry) => entry.promptId === promptId);
    if (!running && !pending) {
      throw new CliError('lost', `The server at ${client.endpoint.display} knows no prompt ${promptId}: it is neither in the history nor in the queue.`, {
        hint: 'Check the id (every `pyros run` prints it first) and the --server; a restarted server forgets its history.',
      });
    }
    if (!wait) {
      throw new CliError('usage', `Prompt ${promptId} has not finished yet (${running ? 'running' : 'queued'}).`, { hint: 'Run again later, or drop --no-wait to wait for it.' });
    }
    reporter.phase(running ? 'running' : 'queued', { text: `waiting for prompt ${promptId}` });
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

function detectedInputs(workflow: ApiWorkflow): PatchResult {
  try {
    return applyPatches(workflow, {});
  } catch {
    return { workflow, applied: { seeds: [], sets: [] }, notes: [] };
  }
}

export async function fetchCommand(promptId: string, flags: FetchFlags): Promise<number> {
  const secrets = secretsOf(resolveConnection(flags, {}));
  const reporter = await createReporter({ ...flags, preview: 'off' }, secrets);
  let client: Client | undefined;
  // Nothing runs on the server for a fetch: Ctrl-C stops the downloads, removing any partial file.
  const disposeSignal = onInterrupt({
    first: () => {
      removeTempFilesSync();
      reporter.close();
      process.exit(EXIT_CODES.cancelled);
    },
    second: () => process.exit(EXIT_CODES.cancelled),
  });
  try {
    const { config, connection } = await loadSettings(flags);
    secrets.push(...secretsOf(connection));
    const requestTimeoutMs = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : undefined;
    client = clientFor(connection, singleServer(connection, 'pyros fetch'), requestTimeoutMs);
    const warning = insecureWarning(connection);
    if (warning) reporter.note(warning, { kind: 'warning' });
    const history = await waitForHistory(client, promptId, flags.wait !== false, reporter);
    const workflow = (history.prompt?.[2] ?? {}) as ApiWorkflow;
    const dir = resolve(flags.output ?? process.env.PYROS_OUTPUT ?? config.output ?? 'images');
    const context = buildSaveContext({ dir, patched: detectedInputs(workflow), server: client.endpoint.display, promptId });
    const { outputs, texts } = collectOutputs(history);
    const saved = await saveAllOutputs(client, { outputs, socketImages: [] }, context, reporter);
    const failed = history.status?.status_str === 'error';
    const lines = [
      ...texts.flatMap((t) => t.values.map((value) => `text from node #${t.nodeId}: ${value}`)),
      `${failed ? 'the prompt had failed; ' : ''}${saved.length} file${saved.length === 1 ? '' : 's'} saved in ${dir} (prompt ${promptId})`,
    ];
    reporter.result(lines, { ok: !failed, prompt_id: promptId, server: client.endpoint.display, status: history.status?.status_str, files: filesSummary(saved), texts });
    return failed ? EXIT_CODES.execution : EXIT_CODES.ok;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose: Boolean(flags.verbose), secrets }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    disposeSignal();
    reporter.close();
    client?.close();
  }
}

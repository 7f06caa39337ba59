/**
 * `pyros run WORKFLOW`: patch, submit, follow, download, save. Wires settings, the workflow
 * layer, the client and the display together; the protocol lives in src/client.
 */
import { resolve } from 'node:path';
import type { Client } from '../../client/client.ts';
import { partialOutputsOf } from '../../client/job-errors.ts';
import type { JobResult } from '../../client/job.ts';
import type { ApiWorkflow } from '../../client/types.ts';
import { PyrosError } from '../../errors.ts';
import { applyPatches, loadWorkflow, type PatchResult } from '../../workflow/index.ts';
import { parseDuration } from '../durations.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { buildSaveContext, filesSummary, saveAllOutputs, savePartialOutputs, timingsOf } from '../save-results.ts';
import { clientFor, loadSettings, secretsOf, resolveConnection, singleServer, type CommonFlags } from '../settings.ts';
import { onInterrupt } from '../signals.ts';

export interface RunFlags extends CommonFlags {
  prompt?: string;
  seed?: string;
  promptInput?: string;
  seedInput?: string;
  set?: string[];
  output?: string;
  timeout?: string;
}

export async function runCommand(workflowArg: string | undefined, flags: RunFlags): Promise<number> {
  const secrets = secretsOf(resolveConnection(flags, {}));
  const reporter = await createReporter(flags, secrets);
  let workflow: ApiWorkflow | undefined;
  let client: Client | undefined;
  const disposeSignal: (() => void)[] = [];
  try {
    const { config, connection } = await loadSettings(flags);
    secrets.push(...secretsOf(connection));
    const workflowPath = workflowArg ?? process.env.PYROS_WORKFLOW ?? config.workflow;
    if (!workflowPath) {
      throw new PyrosError('usage', 'No workflow given.', { hint: 'Run `pyros run WORKFLOW.json` (a workflow exported from ComfyUI in API format), or set one with `pyros init`.' });
    }
    const timeoutMs = flags.timeout ?? config.timeout;
    const requestTimeoutMs = flags.requestTimeout ? parseDuration(flags.requestTimeout, '--request-timeout') : undefined;
    const outputDir = resolve(flags.output ?? process.env.PYROS_OUTPUT ?? config.output ?? 'images');

    const loaded = await loadWorkflow(workflowPath);
    const patched = applyPatches(loaded, {
      prompt: flags.prompt,
      seed: flags.seed,
      promptInput: flags.promptInput ?? process.env.PYROS_PROMPT_INPUT ?? config.promptInput,
      seedInput: flags.seedInput ?? process.env.PYROS_SEED_INPUT ?? config.seedInput,
      sets: [...(config.set ?? []), ...(flags.set ?? [])],
    });
    workflow = patched.workflow;
    reportPatches(reporter, patched);

    client = clientFor(connection, singleServer(connection, 'pyros run'), requestTimeoutMs);
    reporter.phase('connecting', { text: client.endpoint.display });
    const job = client.run(workflow, {
      timeoutMs: timeoutMs === undefined ? undefined : typeof timeoutMs === 'number' ? timeoutMs * 1000 : parseDuration(timeoutMs, '--timeout'),
    });
    reporter.follow(job);
    disposeSignal.push(
      onInterrupt({
        first: () => {
          reporter.note('cancelling this job (press Ctrl-C again to quit at once)…');
          job.cancel().catch((error: Error) => reporter.debug(`cancel failed: ${error.message}`));
        },
        second: () => {
          reporter.close();
          process.exit(EXIT_CODES.cancelled);
        },
      }),
    );

    const context = buildSaveContext({ dir: outputDir, patched, workflowPath, server: client.endpoint.display, promptId: job.promptId });
    let result: JobResult;
    try {
      result = await job.result;
    } catch (error) {
      await savePartialOutputs(client, partialOutputsOf(error), context, reporter);
      throw error;
    }
    context.metadata.prompt_id = result.promptId;
    context.metadata.timings = timingsOf(result);
    const saved = await saveAllOutputs(client, result, context, reporter);
    const texts = result.texts.flatMap((t) => t.values.map((value) => `text from node #${t.nodeId}: ${value}`));
    const lines = [...texts, `done: ${saved.length} file${saved.length === 1 ? '' : 's'} saved in ${outputDir} (prompt ${result.promptId})`];
    reporter.result(lines, {
      ok: true,
      prompt_id: result.promptId,
      server: client.endpoint.display,
      seeds: patched.applied.seeds.map((s) => ({ node_id: s.nodeId, input: s.input, value: s.value })),
      files: filesSummary(saved),
      texts: result.texts,
      cached_nodes: result.cachedNodes,
      warnings: result.warnings,
      timings: context.metadata.timings,
    });
    return EXIT_CODES.ok;
  } catch (error) {
    reporter.error(errorBlock(error, { verbose: Boolean(flags.verbose), secrets, workflow }), errorEvent(error, secrets));
    return exitCodeOf(error);
  } finally {
    for (const dispose of disposeSignal) dispose();
    reporter.close();
    client?.close();
  }
}

function reportPatches(reporter: Reporter, patched: PatchResult): void {
  const { prompt, seeds, sets } = patched.applied;
  if (prompt) {
    reporter.note(`prompt → #${prompt.nodeId} "${prompt.title}".${prompt.input}${prompt.detected ? ' (detected)' : ''}`, { kind: 'prompt', node_id: prompt.nodeId, input: prompt.input, detected: prompt.detected });
  }
  for (const seed of seeds) {
    reporter.note(`seed ${seed.value} → #${seed.nodeId} "${seed.title}".${seed.input}${seed.detected ? ' (detected)' : ''}`, { kind: 'seed', node_id: seed.nodeId, input: seed.input, value: seed.value, detected: seed.detected });
  }
  for (const set of sets) {
    reporter.note(`set #${set.nodeId} "${set.title}".${set.input} = ${JSON.stringify(set.value)}`, { kind: 'set', node_id: set.nodeId, input: set.input, value: set.value });
  }
  for (const note of patched.notes) reporter.note(note);
}

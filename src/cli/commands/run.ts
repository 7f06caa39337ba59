/**
 * `pyros run WORKFLOW`: patch, submit, follow, download, save. Wires settings, the workflow
 * layer, the client and the display together; the protocol lives in src/client.
 */
import { resolve } from 'node:path';
import type { Client } from '../../client/client.ts';
import { partialOutputsOf } from '../../client/job-errors.ts';
import type { JobResult } from '../../client/job.ts';
import type { ApiWorkflow, OutputRef } from '../../client/types.ts';
import { PyrosError } from '../../errors.ts';
import { saveOutput, saveSocketImage, type SaveContext, type SavedFile } from '../../outputs/save.ts';
import { applyPatches, loadWorkflow, type PatchResult } from '../../workflow/index.ts';
import { parseDuration } from '../durations.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorEvent, errorReport, exitCodeOf } from '../report-error.ts';
import { createReporter } from '../reporters/create.ts';
import type { Reporter } from '../reporters/reporter.ts';
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

const VERSION = '0.1.0';

export async function runCommand(workflowArg: string | undefined, flags: RunFlags): Promise<number> {
  const secrets = secretsOf(resolveConnection(flags, {}));
  const reporter = createReporter(flags, secrets);
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
    reporter.phase('connecting', client.endpoint.display);
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

    const context = saveContext(outputDir, patched, workflowPath, client, job.promptId);
    let result: JobResult;
    try {
      result = await job.result;
    } catch (error) {
      await savePartial(client, partialOutputsOf(error), context, reporter);
      throw error;
    }
    context.metadata.timings = timingsOf(result);
    const saved = await saveAll(client, result, context, reporter);
    const texts = result.texts.flatMap((t) => t.values.map((value) => `text from node #${t.nodeId}: ${value}`));
    const lines = [...texts, `done: ${saved.length} file${saved.length === 1 ? '' : 's'} saved in ${outputDir} (prompt ${result.promptId})`];
    reporter.result(lines, {
      ok: true,
      prompt_id: result.promptId,
      server: client.endpoint.display,
      seeds: patched.applied.seeds.map((s) => ({ node_id: s.nodeId, input: s.input, value: s.value })),
      files: saved.map((file) => ({ path: file.path, bytes: file.bytes, node_id: file.nodeId, sidecars: file.sidecars })),
      texts: result.texts,
      cached_nodes: result.cachedNodes,
      warnings: result.warnings,
      timings: context.metadata.timings,
    });
    return EXIT_CODES.ok;
  } catch (error) {
    reporter.error(errorReport(error, { verbose: Boolean(flags.verbose), secrets, workflow }), errorEvent(error, secrets));
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

function promptTextOf(patched: PatchResult): string | undefined {
  const target = patched.applied.prompt;
  if (!target) return undefined;
  const value = patched.workflow[target.nodeId]?.inputs[target.input];
  return typeof value === 'string' ? value : undefined;
}

function saveContext(dir: string, patched: PatchResult, workflowPath: string, client: Client, promptId: string): SaveContext & { metadata: Record<string, unknown> } {
  const promptText = promptTextOf(patched);
  return {
    dir,
    promptText,
    metadata: {
      prompt_id: promptId,
      server: client.endpoint.display,
      prompt: promptText,
      seeds: patched.applied.seeds.map((s) => ({ node_id: s.nodeId, input: s.input, value: s.value })),
      seed: patched.applied.seeds[0]?.value,
      workflow_file: resolve(workflowPath),
      client: `pyros ${VERSION}`,
      workflow: patched.workflow,
    },
  };
}

function timingsOf(result: JobResult): Record<string, unknown> {
  const { submittedAt, startedAt, finishedAt } = result.timings;
  return {
    submitted_at: new Date(submittedAt).toISOString(),
    started_at: startedAt ? new Date(startedAt).toISOString() : undefined,
    finished_at: new Date(finishedAt).toISOString(),
    queued_ms: startedAt ? startedAt - submittedAt : undefined,
    total_ms: finishedAt - submittedAt,
  };
}

const PARALLEL_DOWNLOADS = 4;

/** Saves every output (a few at a time), in the order the server listed them. */
async function saveAll(client: Client, result: JobResult, context: SaveContext, reporter: Reporter): Promise<SavedFile[]> {
  const total = result.outputs.length + result.socketImages.length;
  if (total > 0) reporter.phase('downloading', `${total} file${total === 1 ? '' : 's'}`);
  const saved: SavedFile[] = new Array(result.outputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < result.outputs.length) {
      const index = next++;
      saved[index] = await saveOutput(client.api, result.outputs[index] as OutputRef, context);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, result.outputs.length) }, worker));
  for (const [index, image] of result.socketImages.entries()) {
    saved.push(await saveSocketImage(image, index, 'websocket', context));
  }
  for (const file of saved) reporter.saved(file);
  return saved;
}

/** After a failure, saves what the server already produced, so nothing is lost. */
async function savePartial(client: Client, outputs: OutputRef[], context: SaveContext, reporter: Reporter): Promise<void> {
  for (const ref of outputs) {
    try {
      reporter.saved(await saveOutput(client.api, ref, context));
    } catch (error) {
      reporter.debug(`could not save ${ref.item.filename}: ${(error as Error).message}`);
    }
  }
}

/** Saving a finished prompt's outputs for `run` and `fetch`: same names, same sidecars. */
import { resolve } from 'node:path';
import type { Client } from '../client/client.ts';
import type { JobResult } from '../client/job.ts';
import type { OutputRef } from '../client/types.ts';
import { saveOutput, saveSocketImage, type SaveContext, type SavedFile } from '../outputs/save.ts';
import type { PatchResult } from '../workflow/index.ts';
import { PyrosError } from '../errors.ts';
import { withMoreHint } from './errors/explain.ts';
import type { Reporter } from './reporters/reporter.ts';
import { VERSION } from './version.ts';

export type RunSaveContext = SaveContext & { metadata: Record<string, unknown> };

/** What saving needs of a patched workflow (its notes are not needed). */
type Patched = Pick<PatchResult, 'workflow' | 'applied'>;

function promptTextOf(patched: Patched): string | undefined {
  const target = patched.applied.prompt;
  if (!target) return undefined;
  const value = patched.workflow[target.nodeId]?.inputs[target.input];
  return typeof value === 'string' ? value : undefined;
}

export function buildSaveContext(init: { dir: string; patched: Patched; workflowPath?: string; server: string; promptId: string }): RunSaveContext {
  const promptText = promptTextOf(init.patched);
  const seeds = init.patched.applied.seeds.map((s) => ({ node_id: s.nodeId, input: s.input, value: s.value }));
  return {
    dir: init.dir,
    promptText,
    metadata: {
      prompt_id: init.promptId,
      server: init.server,
      prompt: promptText,
      seed: seeds[0]?.value,
      seeds,
      workflow_file: init.workflowPath ? resolve(init.workflowPath) : undefined,
      client: `pyros ${VERSION}`,
      workflow: init.patched.workflow,
    },
  };
}

export function timingsOf(result: Pick<JobResult, 'timings'>): Record<string, unknown> {
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

/** The same failure, with a hint that the outputs can still be fetched from the server. */
function withFetchHint(error: unknown, context: SaveContext): unknown {
  const promptId = (context as Partial<RunSaveContext>).metadata?.prompt_id;
  if (!(error instanceof PyrosError) || typeof promptId !== 'string') return error;
  const fetch = `The outputs stay on the server: \`pyros fetch ${promptId}${error.kind === 'output' ? ' -o OTHER_DIR' : ''}\` downloads them later.`;
  return withMoreHint(error, fetch);
}

/**
 * Saves every output (a few at a time), reported in the order the server listed them. One failed
 * download does not stop the others: every download ends (saved, or its temporary file removed)
 * before the first failure is thrown.
 */
export async function saveAllOutputs(client: Client, result: Pick<JobResult, 'outputs' | 'socketImages'>, context: SaveContext, reporter: Reporter): Promise<SavedFile[]> {
  const total = result.outputs.length + result.socketImages.length;
  let done = 0;
  const progress = (): void => reporter.phase('downloading', { done, total });
  if (total > 0) progress();
  const saved: (SavedFile | undefined)[] = new Array(result.outputs.length);
  const failures: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < result.outputs.length) {
      const index = next++;
      const ref = result.outputs[index] as OutputRef;
      try {
        saved[index] = await saveOutput(client.api, ref, context);
        done += 1;
        progress();
      } catch (error) {
        failures.push(error);
        reporter.debug(`could not save ${ref.item.filename}: ${(error as Error).message}`);
        // A full or read-only folder fails every other file the same way: stop there.
        if (error instanceof PyrosError && error.kind === 'output') next = result.outputs.length;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DOWNLOADS, result.outputs.length) }, worker));
  const files = saved.filter((file): file is SavedFile => file !== undefined);
  const diskFailed = failures.some((error) => error instanceof PyrosError && error.kind === 'output');
  if (!diskFailed) {
    for (const [index, image] of result.socketImages.entries()) {
      try {
        files.push(await saveSocketImage(image, index, 'websocket', context));
      } catch (error) {
        failures.push(error);
        break;
      }
    }
  }
  for (const file of files) reporter.saved(file);
  if (failures.length > 0) throw withFetchHint(failures[0], context);
  return files;
}

/** After a failure, saves what the server already produced, so nothing is lost. */
export async function savePartialOutputs(client: Client, outputs: OutputRef[], context: SaveContext, reporter: Reporter): Promise<void> {
  for (const ref of outputs) {
    try {
      reporter.saved(await saveOutput(client.api, ref, context));
    } catch (error) {
      reporter.debug(`could not save ${ref.item.filename}: ${(error as Error).message}`);
    }
  }
}

export function filesSummary(saved: SavedFile[]): Record<string, unknown>[] {
  return saved.map((file) => ({ path: file.path, bytes: file.bytes, node_id: file.nodeId, sidecars: file.sidecars }));
}

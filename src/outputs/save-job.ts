/**
 * Saving every output of a job: each file streamed from /view into a temporary file, then given
 * a safe, unused name in the output folder with its sidecars (see save.ts). A few downloads run
 * at once; one failed download does not stop the others, and every download ends (saved, or its
 * temporary file removed) before the first failure is thrown.
 */
import type { ComfyApi } from '../client/api.ts';
import type { JobResult } from '../client/job.ts';
import type { OutputRef } from '../client/types.ts';
import { PyrosError } from '../errors.ts';
import { saveOutput, saveSocketImage, type SaveContext, type SavedFile } from './save.ts';

export interface SaveProgress {
  /** Files saved so far, out of all. */
  progress?(info: { done: number; total: number }): void;
  /** One file saved (reported in the order the server listed them). */
  saved?(file: SavedFile): void;
  /** A file that could not be saved, before the failure is thrown. */
  failed?(info: { output: OutputRef; error: unknown }): void;
}

const PARALLEL_DOWNLOADS = 4;

export async function saveJobOutputs(api: ComfyApi, result: Pick<JobResult, 'outputs' | 'socketImages'>, context: SaveContext, report: SaveProgress = {}): Promise<SavedFile[]> {
  const total = result.outputs.length + result.socketImages.length;
  let done = 0;
  if (total > 0) report.progress?.({ done, total });
  const saved: (SavedFile | undefined)[] = new Array(result.outputs.length);
  const failures: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < result.outputs.length) {
      const index = next++;
      const output = result.outputs[index] as OutputRef;
      try {
        saved[index] = await saveOutput(api, output, context);
        done += 1;
        report.progress?.({ done, total });
      } catch (error) {
        failures.push(error);
        report.failed?.({ output, error });
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
  for (const file of files) report.saved?.(file);
  if (failures.length > 0) throw failures[0];
  return files;
}

/** After a failure, saves what the server already produced, so nothing is lost; returns what was saved. */
export async function savePartialOutputs(api: ComfyApi, outputs: readonly OutputRef[], context: SaveContext, report: SaveProgress = {}): Promise<SavedFile[]> {
  const files: SavedFile[] = [];
  for (const output of outputs) {
    try {
      const file = await saveOutput(api, output, context);
      files.push(file);
      report.saved?.(file);
    } catch (error) {
      report.failed?.({ output, error });
    }
  }
  return files;
}

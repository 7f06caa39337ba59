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
import { outputKey, resumePlacing, saveOutput, saveSocketImage, type SaveContext, type SavedFile } from './save.ts';

export interface SaveProgress {
  /** Files saved so far, out of all. */
  progress?(info: { done: number; total: number }): void;
  /** One file saved (reported in the order the server listed them). */
  saved?(file: SavedFile): void;
  /** A file that could not be saved, before the failure is thrown. */
  failed?(info: { output: OutputRef; error: unknown }): void;
}

/** What an earlier, killed run of the same job had saved, by output key (see outputKey). */
export interface EarlierSaves {
  /** Outputs saved with their sidecars: not downloaded again (they are in the result, not reported). */
  saved: ReadonlyMap<string, SavedFile>;
  /** Outputs that were being given their final name: finished rather than downloaded again. */
  placing: ReadonlyMap<string, { temp: string; name: string }>;
}

const PARALLEL_DOWNLOADS = 4;

export async function saveJobOutputs(
  api: ComfyApi,
  result: Pick<JobResult, 'outputs' | 'socketImages'>,
  context: SaveContext,
  report: SaveProgress = {},
  earlier?: EarlierSaves,
): Promise<SavedFile[]> {
  const total = result.outputs.length + result.socketImages.length;
  const saved: (SavedFile | undefined)[] = result.outputs.map((output) => earlier?.saved.get(outputKey(output)));
  const before = new Set(saved.filter((file) => file !== undefined));
  let done = before.size;
  if (total > 0) report.progress?.({ done, total });
  const failures: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < result.outputs.length) {
      const index = next++;
      const output = result.outputs[index] as OutputRef;
      if (saved[index]) continue;
      try {
        const placing = earlier?.placing.get(outputKey(output));
        saved[index] = (placing && (await resumePlacing(output, placing, context))) || (await saveOutput(api, output, context));
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
      const earlierFile = earlier?.saved.get(`websocket/${index}`);
      if (earlierFile) {
        files.push(earlierFile);
        before.add(earlierFile);
        continue;
      }
      try {
        files.push(await saveSocketImage(image, index, 'websocket', context));
      } catch (error) {
        failures.push(error);
        break;
      }
    }
  }
  for (const file of files) if (!before.has(file)) report.saved?.(file);
  if (failures.length > 0) throw failures[0];
  return files;
}

/** After a failure, saves what the server already produced, so nothing is lost; returns what was saved. */
export async function savePartialOutputs(api: ComfyApi, outputs: readonly OutputRef[], context: SaveContext, report: SaveProgress = {}, earlier?: EarlierSaves): Promise<SavedFile[]> {
  const files: SavedFile[] = [];
  for (const output of outputs) {
    const key = outputKey(output);
    const before = earlier?.saved.get(key);
    if (before) {
      files.push(before);
      continue;
    }
    try {
      const placing = earlier?.placing.get(key);
      const file = (placing && (await resumePlacing(output, placing, context))) || (await saveOutput(api, output, context));
      files.push(file);
      report.saved?.(file);
    } catch (error) {
      report.failed?.({ output, error });
    }
  }
  return files;
}

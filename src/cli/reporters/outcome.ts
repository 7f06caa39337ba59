/** How a job's end is told: the lines and JSON object of a success, the error block of a failure. */
import type { JobFailed, JobSucceeded } from '../../pipeline/index.ts';
import { timingsOf } from '../../pipeline/index.ts';
import type { SavedFile } from '../../outputs/save.ts';
import { PyrosError } from '../../errors.ts';
import type { ErrorBlock } from '../../ui/summary.ts';
import { errorBlock, errorEvent } from '../report-error.ts';
import { withMoreHint } from '../errors/explain.ts';

export function filesSummary(saved: readonly SavedFile[]): Record<string, unknown>[] {
  return saved.map((file) => ({ path: file.path, bytes: file.bytes, node_id: file.nodeId, sidecars: file.sidecars }));
}

/** The human lines and the JSON object that end a successful job. */
export function successReport(outcome: JobSucceeded, outputDir: string): { lines: string[]; data: Record<string, unknown> } {
  const { result, files } = outcome;
  const texts = result.texts.flatMap((t) => t.values.map((value) => `text from node #${t.nodeId}: ${value}`));
  return {
    lines: [...texts, `done: ${files.length} file${files.length === 1 ? '' : 's'} saved in ${outputDir} (prompt ${result.promptId})`],
    data: {
      ok: true,
      prompt_id: result.promptId,
      server: result.server,
      seeds: result.seeds.map((s) => ({ node_id: s.nodeId, input: s.input, value: s.value })),
      files: filesSummary(files),
      texts: result.texts,
      cached_nodes: result.cachedNodes,
      warnings: result.warnings,
      timings: timingsOf(result.timings),
    },
  };
}

/**
 * The error of a failed job, for people and for --json. A job that failed while its outputs
 * were being saved left them on the server: the hint says how to fetch them.
 */
export function failureReport(outcome: JobFailed, options: { verbose: boolean; secrets: readonly string[]; pool: boolean }): { block: ErrorBlock; event: Record<string, unknown> } {
  const error = outcome.stage === 'save' ? withFetchHint(outcome.error, outcome, options.pool) : outcome.error;
  return {
    block: errorBlock(error, { verbose: options.verbose, secrets: options.secrets, workflow: outcome.prepared?.workflow }),
    event: errorEvent(error, options.secrets),
  };
}

function withFetchHint(error: unknown, outcome: JobFailed, pool: boolean): unknown {
  if (!(error instanceof PyrosError) || !outcome.promptId) return error;
  const server = pool && outcome.server ? ` --server ${outcome.server}` : '';
  const fetch = `The outputs stay on the server: \`pyros fetch ${outcome.promptId}${server}${error.kind === 'output' ? ' -o OTHER_DIR' : ''}\` downloads them later.`;
  return withMoreHint(error, fetch);
}

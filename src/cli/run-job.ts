/**
 * One planned job on one client: submit, follow (through the reporter), then save every output —
 * and, when it fails, save what the server already produced before rethrowing.
 */
import type { Client } from '../client/client.ts';
import { partialOutputsOf } from '../client/job-errors.ts';
import type { Job, JobResult } from '../client/job.ts';
import type { SavedFile } from '../outputs/save.ts';
import type { Reporter } from './reporters/reporter.ts';
import type { RunPlan } from './run-plan.ts';
import { buildSaveContext, filesSummary, saveAllOutputs, savePartialOutputs, timingsOf } from './save-results.ts';

export interface JobOutcome {
  result: JobResult;
  saved: SavedFile[];
}

export interface StartedJob {
  job: Job;
  done: Promise<JobOutcome>;
}

export function startJob(client: Client, plan: RunPlan, reporter: Reporter): StartedJob {
  const job = client.run(plan.patched.workflow, { timeoutMs: plan.timeoutMs });
  reporter.follow(job);
  reporter.phase('connecting', { text: client.endpoint.display });
  const context = buildSaveContext({ dir: plan.outputDir, patched: plan.patched, workflowPath: plan.workflowPath, server: client.endpoint.display, promptId: job.promptId });
  Object.assign(context.metadata, plan.metadata);
  const done = (async (): Promise<JobOutcome> => {
    let result: JobResult;
    try {
      result = await job.result;
    } catch (error) {
      await savePartialOutputs(client, partialOutputsOf(error), context, reporter);
      throw error;
    }
    context.metadata.prompt_id = result.promptId;
    context.metadata.timings = timingsOf(result);
    return { result, saved: await saveAllOutputs(client, result, context, reporter) };
  })();
  return { job, done };
}

/** The human lines and the JSON object that end a successful job. */
export function outcomeReport(outcome: JobOutcome, plan: RunPlan, server: string): { lines: string[]; data: Record<string, unknown> } {
  const { result, saved } = outcome;
  const texts = result.texts.flatMap((t) => t.values.map((value) => `text from node #${t.nodeId}: ${value}`));
  return {
    lines: [...texts, `done: ${saved.length} file${saved.length === 1 ? '' : 's'} saved in ${plan.outputDir} (prompt ${result.promptId})`],
    data: {
      ok: true,
      prompt_id: result.promptId,
      server,
      seeds: plan.patched.applied.seeds.map((s) => ({ node_id: s.nodeId, input: s.input, value: s.value })),
      files: filesSummary(saved),
      texts: result.texts,
      cached_nodes: result.cachedNodes,
      warnings: result.warnings,
      timings: timingsOf(result),
    },
  };
}

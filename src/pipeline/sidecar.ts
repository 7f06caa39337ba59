/** The sidecars of a job's outputs: `.txt` holds the prompt text, `.json` what reproduces the job. */
import type { JobResult } from '../client/job.ts';
import type { SaveContext } from '../outputs/save.ts';
import { VERSION } from '../version.ts';
import type { JobRecord } from './record.ts';

export const CLIENT_NAME = 'pyros';

export function timingsOf(timings: JobResult['timings']): Record<string, unknown> {
  const { submittedAt, startedAt, finishedAt } = timings;
  return {
    submitted_at: new Date(submittedAt).toISOString(),
    started_at: startedAt ? new Date(startedAt).toISOString() : undefined,
    finished_at: new Date(finishedAt).toISOString(),
    queued_ms: startedAt ? startedAt - submittedAt : undefined,
    total_ms: finishedAt - submittedAt,
  };
}

/** Where a job's files go and what their sidecars say; `result` is absent for a job that failed. */
export function sidecarContext(init: {
  dir: string;
  record: JobRecord;
  promptId: string;
  server: string;
  workflow: JobResult['workflow'];
  seeds: JobResult['seeds'];
  timings?: JobResult['timings'];
}): SaveContext & { metadata: Record<string, unknown> } {
  const { record } = init;
  const seeds = init.seeds.map((seed) => ({ node_id: seed.nodeId, input: seed.input, value: seed.value }));
  return {
    dir: init.dir,
    promptText: record.prompt?.text,
    metadata: {
      prompt_id: init.promptId,
      server: init.server,
      prompt: record.prompt?.text,
      seed: seeds[0]?.value,
      seeds,
      workflow_file: record.workflowFile,
      client: `${CLIENT_NAME} ${VERSION}`,
      batch: record.batch,
      inputs: record.inputs?.map((input) => ({ path: input.path, node_id: input.nodeId, input: input.input, value: init.workflow[input.nodeId]?.inputs[input.input] })),
      prompt_template: record.variables?.template,
      variables: record.variables?.choices,
      variables_seed: record.variables?.seed,
      timings: init.timings ? timingsOf(init.timings) : undefined,
      workflow: init.workflow,
    },
  };
}

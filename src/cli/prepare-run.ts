/**
 * Everything `pyros run` settles before it talks to the server: the workflow loaded and patched,
 * prompt variables expanded with the job's seed, and the files to upload checked.
 */
import type { Expansion } from '../vars/index.ts';
import { loadWorkflow } from '../workflow/index.ts';
import { planWithVariables } from './prompt-variables.ts';
import type { RunPlan, RunSettings } from './run-plan.ts';
import { planUploads, splitFileSets, type PendingUpload } from './uploads.ts';

export interface PreparedRun {
  plan: RunPlan;
  /** Files to upload once connected (`--input`, `--set NODE.INPUT=@FILE`). */
  uploads: PendingUpload[];
  expansion: Expansion | undefined;
}

export async function prepareRun(settings: RunSettings, job: { prompt?: string; seed?: string | number; inputs?: string[] }, dirs: () => string[]): Promise<PreparedRun> {
  const workflow = await loadWorkflow(settings.workflowPath);
  const { values, files } = splitFileSets(settings.sets);
  const uploads = await planUploads(workflow, job.inputs ?? [], files);
  const { plan, expansion } = await planWithVariables(workflow, { ...settings, sets: values }, { prompt: job.prompt, seed: job.seed }, dirs);
  return { plan, uploads, expansion };
}

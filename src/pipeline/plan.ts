/**
 * What a run is made of, settled before anything is sent: the workflow, how one job patches it,
 * the files to upload, where outputs go, the limits; and the jobs themselves (prompt × seed).
 */
import type { ApiWorkflow } from '../workflow/types.ts';
import type { InputUpload } from '../client/uploads.ts';
import type { PatchResult } from '../workflow/index.ts';
import type { ConversionResult, EditorWorkflow } from '../workflow/editor/index.ts';
import { randomSeed } from '../workflow/index.ts';
import type { PlanRecipe } from './journal-entries.ts';

export interface JobSpec {
  /** 0-based position in its batch. */
  index: number;
  /** Prompt text (it may hold variables), or undefined to keep the workflow's. */
  prompt?: string;
  /** The seed of every seed input, or undefined to keep the workflow's. */
  seed?: number;
  /** 0-based index of its prompt among those given, and its repetition of that prompt. */
  promptIndex?: number;
  repeat?: number;
}

export interface RunPlan {
  workflow: ApiWorkflow;
  /** The file it came from (absolute), for the sidecars. */
  workflowFile?: string;
  /** Applies one job's prompt and seed, and the inputs set for every job, to a copy of the workflow. */
  patch(workflow: ApiWorkflow, job: { prompt?: string; seed?: number }): PatchResult;
  /** Files every job needs on its server (uploaded once per server). */
  uploads: readonly InputUpload[];
  /** Where prompt variables are looked up, in order. */
  variableDirs(): string[];
  outputDir: string;
  /** Per job, counted from its first submission. */
  timeoutMs?: number;
  /** Resubmissions allowed per job when its server lost the prompt or never got it. */
  retries: number;
  /** Jobs in the run (a batch's size; 1 for a single job). */
  total: number;
  /** How `patch` was made, kept in the run's journal so that a resumed run can make it again. */
  recipe?: PlanRecipe;
  /**
   * The editor workflow that goes with every job into the files it saves (`extra_pnginfo`), with
   * the conversion that tells where each value of the prompt is stored in it.
   */
  editor?: { workflow: EditorWorkflow; conversion?: ConversionResult };
  /** Queue every job ahead of the prompts already waiting. */
  front?: boolean;
  /** Run only what these output nodes need. */
  outputs?: readonly string[];
}

export type SeedPolicy =
  | { kind: 'keep' } // the workflow's own seeds
  | { kind: 'random' }
  | { kind: 'fixed'; value: number }
  | { kind: 'sequence'; start: number };

/** Every prompt × count, prompt by prompt; seeds from the policy. */
export function expandJobs(options: { prompts: readonly (string | undefined)[]; count: number; seed: SeedPolicy; random?: () => number }): JobSpec[] {
  const prompts = options.prompts.length > 0 ? options.prompts : [undefined];
  const random = options.random ?? randomSeed;
  const jobs: JobSpec[] = [];
  for (const [promptIndex, prompt] of prompts.entries()) {
    for (let repeat = 0; repeat < options.count; repeat++) {
      const policy = options.seed;
      const seed = policy.kind === 'random' ? random() : policy.kind === 'fixed' ? policy.value : policy.kind === 'sequence' ? policy.start + repeat : undefined;
      jobs.push({ index: jobs.length, prompt, seed, promptIndex, repeat });
    }
  }
  return jobs;
}

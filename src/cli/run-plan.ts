/**
 * What one `pyros run` will submit: the workflow loaded and patched, where its outputs go, and
 * its limits. Built from flags, environment and config; shared by run, batches and interactive mode.
 */
import { resolve } from 'node:path';
import type { ApiWorkflow } from '../client/types.ts';
import { loadWorkflow } from '../workflow/index.ts';
import { CliError } from './errors/cli-error.ts';
import { patchWithFlags, type PatchedWorkflow } from './patch-flags.ts';
import type { FileConfig } from './config.ts';
import { parseDuration } from './durations.ts';
import type { Reporter } from './reporters/reporter.ts';

export interface PatchFlags {
  prompt?: string;
  seed?: string;
  promptInput?: string;
  seedInput?: string;
  set?: string[];
}

export interface RunSettingsFlags extends PatchFlags {
  output?: string;
  timeout?: string;
}

export interface RunSettings {
  workflowPath: string;
  outputDir: string;
  timeoutMs: number | undefined;
  promptInput: string | undefined;
  seedInput: string | undefined;
  sets: string[];
}

export interface RunPlan {
  workflowPath: string;
  outputDir: string;
  timeoutMs: number | undefined;
  patched: PatchedWorkflow;
  /** Extra fields for every .json sidecar (e.g. the prompt template). */
  metadata?: Record<string, unknown>;
}

export function resolveRunSettings(workflowArg: string | undefined, flags: RunSettingsFlags, config: FileConfig, env: NodeJS.ProcessEnv = process.env): RunSettings {
  const workflowPath = workflowArg ?? env.PYROS_WORKFLOW ?? config.workflow;
  if (!workflowPath) {
    throw new CliError('usage', 'No workflow given.', { hint: 'Run `pyros run WORKFLOW.json` (a workflow exported from ComfyUI in API format), or set one with `pyros init`.' });
  }
  const timeout = flags.timeout ?? config.timeout;
  return {
    workflowPath,
    outputDir: resolve(flags.output ?? env.PYROS_OUTPUT ?? config.output ?? 'images'),
    timeoutMs: timeout === undefined ? undefined : typeof timeout === 'number' ? timeout * 1000 : parseDuration(timeout, '--timeout'),
    promptInput: flags.promptInput ?? env.PYROS_PROMPT_INPUT ?? config.promptInput,
    seedInput: flags.seedInput ?? env.PYROS_SEED_INPUT ?? config.seedInput,
    sets: [...(config.set ?? []), ...(flags.set ?? [])],
  };
}

/** Patches an already loaded workflow for one job. */
export function planJob(workflow: ApiWorkflow, settings: RunSettings, job: { prompt?: string; seed?: string | number; sets?: string[] }): RunPlan {
  const patched = patchWithFlags(workflow, {
    prompt: job.prompt,
    seed: job.seed,
    promptInput: settings.promptInput,
    seedInput: settings.seedInput,
    sets: [...settings.sets, ...(job.sets ?? [])],
  });
  return { workflowPath: settings.workflowPath, outputDir: settings.outputDir, timeoutMs: settings.timeoutMs, patched };
}

export async function loadPlan(settings: RunSettings, job: { prompt?: string; seed?: string | number }): Promise<RunPlan> {
  return planJob(await loadWorkflow(settings.workflowPath), settings, job);
}

/** Tells which inputs were patched (and with what seed): always printed before submitting. */
export function reportPatches(reporter: Reporter, patched: PatchedWorkflow): void {
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

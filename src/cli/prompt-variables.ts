/**
 * A `--prompt` with variables (`__color__`) is expanded after the job's seed is known, with that
 * seed, so the sidecar's seed and template reproduce it. Shared by run, batches and interactive mode.
 */
import type { ApiWorkflow } from '../client/types.ts';
import { expandPrompt, hasVariables, variableDirs, type Expansion } from '../vars/index.ts';
import { parseSeed, randomSeed } from '../workflow/index.ts';
import type { FileConfig } from './config.ts';
import type { Reporter } from './reporters/reporter.ts';
import { planJob, type RunPlan, type RunSettings } from './run-plan.ts';

/** `--vars DIR`, else PYROS_VARS, else `vars` of the config file; then the user's and the bundled folders. */
export function variableDirsFor(flags: { vars?: string }, config: FileConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  return variableDirs({ varsDir: flags.vars ?? (env.PYROS_VARS || undefined) ?? config.vars, env });
}

export interface VariablePlan {
  plan: RunPlan;
  /** Present when the prompt held variables. */
  expansion?: Expansion;
}

/**
 * Patches the workflow for one job. When the prompt holds variables, the seed is settled first
 * (`random` drawn once, or the workflow's own seed), the prompt expanded with it, and the
 * template and choices go into the sidecar metadata.
 */
export async function planWithVariables(
  workflow: ApiWorkflow,
  settings: RunSettings,
  job: { prompt?: string; seed?: string | number; sets?: string[] },
  dirs: () => string[],
): Promise<VariablePlan> {
  const { prompt } = job;
  if (prompt === undefined || !hasVariables(prompt)) return { plan: planJob(workflow, settings, job) };
  const seed = job.seed === undefined ? undefined : parseSeed(job.seed);
  const draft = planJob(workflow, settings, { ...job, seed });
  const used = draft.patched.applied.seeds[0]?.value ?? seed ?? randomSeed();
  const expansion = await expandPrompt(prompt, { seed: used, dirs: dirs() });
  const plan = planJob(workflow, settings, { ...job, prompt: expansion.text, seed });
  plan.metadata = { ...plan.metadata, prompt_template: expansion.template, variables: expansion.choices, variables_seed: used };
  return { plan, expansion };
}

/** `prompt: a crimson red fox …`, with the template and choices in the JSON event. */
export function reportExpansion(reporter: Reporter, expansion: Expansion | undefined): void {
  if (!expansion) return;
  reporter.note(`prompt: ${expansion.text}`, { kind: 'prompt_expanded', text: expansion.text, template: expansion.template, variables: expansion.choices });
}

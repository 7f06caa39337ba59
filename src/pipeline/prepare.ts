/**
 * One job made ready to submit: its seed settled, prompt variables expanded with that seed, the
 * workflow patched, and the record that travels with it.
 */
import { resolve } from 'node:path';
import type { ApiWorkflow } from '../workflow/types.ts';
import { expandPrompt, hasVariables, type Expansion } from '../vars/index.ts';
import { detectPrompt, randomSeed, type PatchResult } from '../workflow/index.ts';
import { workflowWithValues } from '../workflow/editor/embed.ts';
import type { EditorWorkflow } from '../workflow/editor/index.ts';
import type { JobSpec, RunPlan } from './plan.ts';
import type { JobRecord } from './record.ts';

export interface PreparedJob {
  spec: JobSpec;
  /** The workflow to submit (uploads are applied on the server's side of the pool). */
  workflow: ApiWorkflow;
  patched: PatchResult;
  /** Present when the prompt held variables. */
  expansion?: Expansion;
  record: JobRecord;
  /** The editor workflow saved with its outputs, showing the values this job sets. */
  editorWorkflow?: EditorWorkflow;
}

/** A job prepared once already (by a run that was then killed): its variables are not chosen again. */
export interface PrepareOptions {
  variables?: { expansion: Expansion; seed: number };
}

export async function prepareJob(plan: RunPlan, spec: JobSpec, options: PrepareOptions = {}): Promise<PreparedJob> {
  const { prompt, seed } = spec;
  let patched: PatchResult;
  let expansion: Expansion | undefined;
  let variablesSeed = 0;
  if (prompt !== undefined && options.variables) {
    ({ expansion, seed: variablesSeed } = options.variables);
    patched = plan.patch(plan.workflow, { prompt: expansion.text, seed });
  } else if (prompt !== undefined && hasVariables(prompt)) {
    // The seed comes first (the workflow's own when none is given), so `__seed__` and the choices follow it.
    const draft = plan.patch(plan.workflow, { seed });
    variablesSeed = draft.applied.seeds[0]?.value ?? seed ?? randomSeed();
    expansion = await expandPrompt(prompt, { seed: variablesSeed, dirs: plan.variableDirs() });
    patched = plan.patch(plan.workflow, { prompt: expansion.text, seed });
  } else {
    patched = plan.patch(plan.workflow, { prompt, seed });
  }
  const record: JobRecord = {
    prompt: promptOfPlanJob(plan, patched),
    workflowFile: plan.workflowFile,
    batch: plan.total > 1 ? { job: spec.index + 1, of: plan.total } : undefined,
    inputs: plan.uploads.length > 0 ? plan.uploads.map((u) => ({ path: resolve(u.path), nodeId: u.nodeId, input: u.input })) : undefined,
  };
  if (expansion) record.variables = { template: expansion.template, choices: expansion.choices, seed: variablesSeed };
  const editor = plan.editor;
  const editorWorkflow = editor && (editor.conversion ? workflowWithValues(editor.workflow, editor.conversion, patched.workflow).workflow : editor.workflow);
  return { spec, workflow: patched.workflow, patched, expansion, record, ...(editorWorkflow ? { editorWorkflow } : {}) };
}

/**
 * Where the prompt of a plan's jobs is, when none is set: detected once per plan (its jobs differ
 * in values, never in the nodes and links that detection looks at).
 */
const detectedPrompts = new WeakMap<RunPlan, { target: { nodeId: string; input: string } | undefined }>();

function promptOfPlanJob(plan: RunPlan, patched: PatchResult): JobRecord['prompt'] {
  if (patched.applied.prompt) return promptOf(patched);
  let detected = detectedPrompts.get(plan);
  if (!detected) {
    detected = { target: detectPrompt(patched.workflow).target };
    detectedPrompts.set(plan, detected);
  }
  return promptAt(patched.workflow, detected.target);
}

/** The prompt text of a job: what was set, else what the detected prompt input holds. */
export function promptOf(patched: PatchResult): JobRecord['prompt'] {
  return promptAt(patched.workflow, patched.applied.prompt ?? detectPrompt(patched.workflow).target);
}

function promptAt(workflow: ApiWorkflow, target: { nodeId: string; input: string } | undefined): JobRecord['prompt'] {
  if (!target) return undefined;
  const text = workflow[target.nodeId]?.inputs[target.input];
  return typeof text === 'string' ? { text, nodeId: target.nodeId, input: target.input } : undefined;
}

/**
 * The options of `pyros run` (and of interactive mode, which takes the same ones), resolved once
 * from flags, environment and config file, checked before anything is sent, and turned into the
 * pipeline's plan.
 */
import { resolve } from 'node:path';
import type { ApiWorkflow } from '../workflow/types.ts';
import type { RunPlan, SeedPolicy } from '../pipeline/index.ts';
import type { Client } from '../client/client.ts';
import { loadWorkflowInput, nodeDefinitions, type WorkflowInput } from './workflow-input.ts';
import { CliError } from './errors/cli-error.ts';
import { patchFlags } from './patch-flags.ts';
import { parseCount, parseSeedPolicy, readPromptsFile } from './batch/expand.ts';
import type { CommandContext, CommonFlags } from './context.ts';
import { parseDuration } from './durations.ts';
import { variableDirsFor } from './prompt-variables.ts';
import { parsePreviewMode } from './reporters/create.ts';
import { planUploads, splitFileSets } from './uploads.ts';
import type { PreviewMode } from '../ui/preview/detect.ts';

/** Every option of `pyros run`; interactive mode takes the same ones (the workflow with --workflow). */
export interface RunFlags extends CommonFlags {
  workflow?: string;
  prompt?: string[];
  prompts?: string;
  count?: string;
  seed?: string;
  promptInput?: string;
  seedInput?: string;
  set?: string[];
  input?: string[];
  vars?: string;
  output?: string;
  timeout?: string;
  retry?: string;
  preview?: string;
  show?: boolean;
  open?: boolean;
  objectInfo?: string;
  front?: boolean;
  only?: string[];
}

export interface RunSettings {
  /** Undefined when none is given (interactive mode may load one later). */
  workflowPath: string | undefined;
  outputDir: string;
  timeoutMs: number | undefined;
  retries: number;
  promptInput: string | undefined;
  seedInput: string | undefined;
  /** `NODE.INPUT=VALUE` from the config file, then the command line (`=@FILE` ones included). */
  sets: string[];
  /** `--input` files, for the image loaders in node-id order. */
  inputs: string[];
  /** `--prompt` (repeatable) and the lines of `--prompts FILE`. */
  prompts: string[];
  count: number;
  /** Undefined when `--seed` was not given (the mode's default applies). */
  seed: SeedPolicy | undefined;
  variableDirs: () => string[];
  preview: PreviewMode;
  show: boolean;
  open: boolean;
  /** `--object-info FILE`: node definitions for converting editor-format workflows without a server. */
  objectInfoFile: string | undefined;
  front: boolean;
  /** `--only NODE`: output nodes to run (ids or titles, resolved against the workflow). */
  only: string[];
}

const MAX_RETRIES = 100;

export function parseRetries(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) > MAX_RETRIES) {
    throw new CliError('usage', `--retry expects a whole number from 0 to ${MAX_RETRIES} (got "${text}").`, { hint: 'e.g. --retry 3' });
  }
  return Number(text);
}

export async function resolveRunSettings(workflowArg: string | undefined, flags: RunFlags, context: CommandContext): Promise<RunSettings> {
  const { config, env } = context;
  const timeout = flags.timeout ?? config.timeout;
  const prompts = [...(flags.prompt ?? []), ...(flags.prompts ? await readPromptsFile(flags.prompts) : [])];
  return {
    workflowPath: workflowArg ?? flags.workflow ?? env.PYROS_WORKFLOW ?? config.workflow,
    outputDir: resolve(flags.output ?? env.PYROS_OUTPUT ?? config.output ?? 'images'),
    timeoutMs: timeout === undefined ? undefined : typeof timeout === 'number' ? timeout * 1000 : parseDuration(timeout, '--timeout'),
    retries: parseRetries(flags.retry),
    promptInput: flags.promptInput ?? env.PYROS_PROMPT_INPUT ?? config.promptInput,
    seedInput: flags.seedInput ?? env.PYROS_SEED_INPUT ?? config.seedInput,
    sets: [...(config.set ?? []), ...(flags.set ?? [])],
    inputs: flags.input ?? [],
    prompts,
    count: parseCount(flags.count),
    seed: flags.seed === undefined ? undefined : parseSeedPolicy(flags.seed),
    variableDirs: () => variableDirsFor(flags, config, env),
    preview: parsePreviewMode(flags.preview ?? config.preview),
    show: Boolean(flags.show),
    open: Boolean(flags.open),
    objectInfoFile: flags.objectInfo,
    front: Boolean(flags.front),
    only: flags.only ?? [],
  };
}

export function requireWorkflow(settings: RunSettings): string {
  if (settings.workflowPath) return settings.workflowPath;
  throw new CliError('usage', 'No workflow given.', { hint: 'Run `pyros run WORKFLOW.json` (a workflow exported from ComfyUI in API format), or set one with `pyros init`.' });
}

/**
 * The pipeline's plan for `workflow`: the inputs set for every job, the files to upload (each
 * checked now), the limits. Fails before anything is sent when an option does not fit the workflow.
 */
export async function buildPlan(
  settings: RunSettings,
  workflow: ApiWorkflow,
  options: { workflowPath?: string; total: number; sets?: readonly string[]; inputs?: readonly string[]; editor?: RunPlan['editor'] },
): Promise<RunPlan> {
  const { values, files } = splitFileSets(options.sets ?? settings.sets);
  const pending = await planUploads(workflow, options.inputs ?? settings.inputs, files);
  const patch: RunPlan['patch'] = (graph, job) =>
    patchFlags(graph, { prompt: job.prompt, seed: job.seed, promptInput: settings.promptInput, seedInput: settings.seedInput, sets: values });
  // Every job fails the same way when a --set or an input does not fit: fail once, now.
  patch(workflow, {});
  return {
    workflow,
    workflowFile: options.workflowPath ? resolve(options.workflowPath) : undefined,
    patch,
    uploads: pending.map((upload) => ({ nodeId: upload.nodeId, input: upload.input, path: upload.path, folder: upload.classType === 'LoadImageOutput' ? 'output' : 'input' })),
    variableDirs: settings.variableDirs,
    outputDir: settings.outputDir,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    total: options.total,
    ...(options.editor ? { editor: options.editor } : {}),
    ...(settings.front ? { front: true } : {}),
    ...(settings.only.length > 0 ? { outputs: settings.only.map((node) => resolveOutputNode(workflow, node)) } : {}),
    recipe: { promptInput: settings.promptInput, seedInput: settings.seedInput, sets: values },
  };
}

/** `--only NODE`: a node id, or a title that names one node. */
function resolveOutputNode(workflow: ApiWorkflow, node: string): string {
  if (workflow[node]) return node;
  const titled = Object.entries(workflow).filter(([, candidate]) => candidate._meta?.title === node || candidate.class_type === node);
  if (titled.length === 1) return titled[0]?.[0] as string;
  const outputs = Object.entries(workflow).filter(([, candidate]) => /Save|Preview/.test(candidate.class_type)).map(([id, candidate]) => `#${id} "${candidate._meta?.title ?? candidate.class_type}"`);
  throw new CliError('usage', titled.length > 1 ? `--only ${node}: ${titled.length} nodes have that title or class.` : `--only ${node}: the workflow has no such node.`, {
    hint: `Name an output node by its id or title${outputs.length > 0 ? `, e.g. ${outputs.slice(0, 4).join(', ')}` : ''}.`,
  });
}

/** The workflow of the run (any format pyros reads; editor workflows converted with the servers' node definitions). */
export async function loadRunWorkflow(settings: RunSettings, clients: () => readonly Client[]): Promise<WorkflowInput> {
  const path = requireWorkflow(settings);
  return loadWorkflowInput(path, () => nodeDefinitions({ file: settings.objectInfoFile, clients }));
}

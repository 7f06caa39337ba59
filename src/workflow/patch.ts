/** Applying --prompt, --seed and --set to a copy of a workflow, and reporting exactly what was set. */
import { PyrosError } from '../errors.ts';
import type { ApiWorkflow } from '../client/types.ts';
import { detectPrompt, detectSeeds, TEXT_INPUTS, type DetectedInput } from './detect.ts';
import { describeInput, kindOf, nodeTitle, sameInput, showValue, type InputRef } from './graph.ts';
import { parseSeed } from './seed.ts';
import { parseSetArg, resolveTarget, type SetArg } from './target.ts';

export { parseTarget, parseSetArg, resolveTarget, type SetArg, type TargetSpec } from './target.ts';
export { parseSeed, randomSeed, MAX_SEED } from './seed.ts';

export interface PatchOptions {
  /** New text for the prompt input. */
  prompt?: string;
  /** A seed for every seed input: a number, or text parseSeed accepts ("123", "random"). */
  seed?: number | string;
  /** `NODE.INPUT` of the prompt, instead of detecting it. */
  promptInput?: string;
  /** `NODE.INPUT` of the seed, instead of detecting the seed inputs. */
  seedInput?: string;
  /** `NODE.INPUT=VALUE` assignments, applied last in order. File references must be uploaded first. */
  sets?: readonly (string | SetArg)[];
}

export interface AppliedInput extends InputRef {
  title: string;
  classType: string;
}
export interface AppliedPrompt extends AppliedInput {
  /** Found by looking at the graph rather than named with promptInput. */
  detected: boolean;
  how?: string;
}
export interface AppliedSeed extends AppliedInput {
  /** The seed the input holds after patching (set, or already in the workflow). */
  value: number;
  detected: boolean;
  how?: string;
}
export interface AppliedSet extends AppliedInput {
  value: unknown;
}

export interface PatchResult {
  /** A patched deep copy; the workflow passed in is not modified. */
  workflow: ApiWorkflow;
  applied: { prompt?: AppliedPrompt; seeds: AppliedSeed[]; sets: AppliedSet[] };
  /** Things worth telling the user: inputs left unchanged, values that changed kind, overrides. */
  notes: string[];
}

export function applyPatches(workflow: ApiWorkflow, options: PatchOptions): PatchResult {
  const patched = structuredClone(workflow);
  const notes: string[] = [];
  const applied: PatchResult['applied'] = { seeds: [], sets: [] };

  if (options.prompt !== undefined) {
    const prompt = promptTarget(patched, options.promptInput, notes);
    noteKindChange(patched, prompt, options.prompt, '--prompt', notes);
    setInput(patched, prompt, options.prompt);
    noteOtherTextInputs(patched, prompt, notes);
    applied.prompt = prompt;
  }

  const seed = options.seed === undefined ? undefined : parseSeed(options.seed);
  for (const target of seedTargets(patched, options.seedInput, seed !== undefined)) {
    const current = patched[target.nodeId]?.inputs[target.input];
    if (seed !== undefined) setInput(patched, target, seed);
    applied.seeds.push({ ...target, value: seed ?? (current as number) });
  }

  const assigned = new Map<string, AppliedSet>();
  for (const entry of options.sets ?? []) {
    const set = typeof entry === 'string' ? parseSetArg(entry) : entry;
    if (set.kind === 'file') {
      throw new PyrosError('usage', `--set "${set.text}" names a file to upload; upload it first and set the uploaded name instead.`);
    }
    const ref = resolveTarget(patched, set.target, '--set');
    const name = `${ref.nodeId}.${ref.input}`;
    if (assigned.has(name)) notes.push(`--set ${name} is given more than once; the last value (${showValue(set.value)}) is used.`);
    if (!assigned.has(name) && applied.prompt && sameInput(applied.prompt, ref)) notes.push(`--set ${name} replaces the text --prompt put there.`);
    if (!assigned.has(name) && seed !== undefined && applied.seeds.some((s) => sameInput(s, ref))) {
      notes.push(`--set ${name} replaces the seed --seed put there.`);
    }
    noteKindChange(patched, ref, set.value, `--set ${name}`, notes);
    setInput(patched, ref, set.value);
    const result = { ...appliedInput(patched, ref), value: set.value };
    assigned.set(name, result);
    applied.sets.push(result);
  }

  // A --set on a seed input changes the seed that is actually used.
  for (const entry of applied.seeds) {
    const final = patched[entry.nodeId]?.inputs[entry.input];
    if (typeof final === 'number') entry.value = final;
  }
  return { workflow: patched, applied, notes };
}

function appliedInput(workflow: ApiWorkflow, ref: InputRef): AppliedInput {
  const node = workflow[ref.nodeId];
  return { nodeId: ref.nodeId, input: ref.input, title: node ? nodeTitle(node) : ref.nodeId, classType: node?.class_type ?? '' };
}

function setInput(workflow: ApiWorkflow, ref: InputRef, value: unknown): void {
  const node = workflow[ref.nodeId];
  if (node) node.inputs[ref.input] = value;
}

function promptTarget(workflow: ApiWorkflow, promptInput: string | undefined, notes: string[]): AppliedPrompt {
  if (promptInput !== undefined) {
    return { ...appliedInput(workflow, resolveTarget(workflow, promptInput, '--prompt-input')), detected: false };
  }
  const detection = detectPrompt(workflow);
  if (!detection.target) throw promptNotFound(workflow, detection.status, detection.candidates);
  const target = detection.target;
  const unchanged = detection.candidates.filter((c) => !sameInput(c, target) && c.feedsPositive);
  if (unchanged.length > 0) {
    notes.push(`Also feeding positive conditioning, left unchanged: ${unchanged.map((c) => describeInput(workflow, c)).join(', ')}.`);
  }
  return { ...appliedInput(workflow, target), detected: true, how: target.how };
}

function promptNotFound(workflow: ApiWorkflow, status: 'ambiguous' | 'none' | 'detected', candidates: DetectedInput[]): PyrosError {
  const listed = candidates.map((c) => describeInput(workflow, c)).join('; ');
  const hint = nameInputHint('--prompt-input', candidates[0]);
  if (status === 'ambiguous') {
    return new PyrosError('usage', `--prompt: several text inputs feed the positive conditioning, and none is titled as the prompt: ${listed}.`, { hint });
  }
  const found = candidates.length > 0 ? ` Text inputs in this workflow: ${listed}.` : ' The workflow has no text inputs.';
  return new PyrosError('usage', `--prompt: no prompt input was found: no text encoder feeds the positive conditioning of a sampler pyros recognises.${found}`, {
    hint,
  });
}

function seedTargets(workflow: ApiWorkflow, seedInput: string | undefined, seedGiven: boolean): (AppliedInput & { detected: boolean; how?: string })[] {
  if (seedInput !== undefined) {
    const ref = resolveTarget(workflow, seedInput, '--seed-input');
    const current = workflow[ref.nodeId]?.inputs[ref.input];
    if (typeof current !== 'number') {
      throw new PyrosError('usage', `--seed-input "${seedInput}": ${describeInput(workflow, ref)} holds ${kindOf(current)}, not a seed number.`, {
        hint: 'Name an input that holds a whole number, such as KSampler.seed or RandomNoise.noise_seed.',
      });
    }
    return [{ ...appliedInput(workflow, ref), detected: false }];
  }
  const detection = detectSeeds(workflow);
  if (detection.targets.length === 0 && seedGiven) {
    const listed = detection.candidates.map((c) => `${describeInput(workflow, c)} (${c.how})`).join('; ');
    throw new PyrosError(
      'usage',
      `--seed: no seed input was found: no node has a seed or noise_seed input holding a number.${listed ? ` Inputs that look like seeds: ${listed}.` : ''}`,
      { hint: nameInputHint('--seed-input', detection.candidates[0]) },
    );
  }
  return detection.targets.map((target) => ({ ...appliedInput(workflow, target), detected: true, how: target.how }));
}

function nameInputHint(option: string, example: InputRef | undefined): string {
  const shown = example ? ` (e.g. ${option} ${example.nodeId}.${example.input})` : '';
  return `Name the input to set with ${option} NODE.INPUT${shown}, where NODE is a node id or title and INPUT the input's name.`;
}

function noteKindChange(workflow: ApiWorkflow, ref: InputRef, value: unknown, option: string, notes: string[]): void {
  const current = workflow[ref.nodeId]?.inputs[ref.input];
  if (current === undefined || kindOf(current) === kindOf(value)) return;
  notes.push(`${option}: ${describeInput(workflow, ref)} held ${kindOf(current)} (${showValue(current)}) and now holds ${kindOf(value)} (${showValue(value)}).`);
}

/** Encoders with several text boxes (CLIPTextEncodeFlux clip_l + t5xxl, SDXL text_g + text_l): only one is the prompt. */
function noteOtherTextInputs(workflow: ApiWorkflow, prompt: InputRef, notes: string[]): void {
  const inputs = workflow[prompt.nodeId]?.inputs ?? {};
  const others = TEXT_INPUTS.filter((name) => name !== prompt.input && typeof inputs[name] === 'string' && inputs[name] !== '');
  for (const name of others) {
    notes.push(`${describeInput(workflow, { nodeId: prompt.nodeId, input: name })} also holds text and was left unchanged (--set ${prompt.nodeId}.${name}=… changes it).`);
  }
}

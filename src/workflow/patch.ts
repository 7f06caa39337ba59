/** Setting the prompt, the seed and any inputs on a copy of a workflow, and reporting exactly what was set. */
import { PyrosError } from '../errors.ts';
import type { ApiWorkflow } from './types.ts';
import { detectPrompt, detectSeeds, TEXT_INPUTS, type DetectedInput } from './detect.ts';
import { describeInput, kindOf, nodeTitle, sameInput, type InputRef } from './graph.ts';
import { parseSeed } from './seed.ts';
import { resolveTargetFor, type InputTarget } from './target.ts';

export { resolveTarget, type InputTarget } from './target.ts';
export { parseSeed, randomSeed, MAX_SEED } from './seed.ts';

/** A value for one input; `node` is a node id or title. */
export interface InputSet extends InputTarget {
  value: unknown;
}

export interface PatchOptions {
  /** New text for the prompt input. */
  prompt?: string;
  /** A seed for every seed input: a number, or text parseSeed accepts ("123", "random"). */
  seed?: number | string;
  /** The prompt input, instead of detecting it. */
  promptInput?: InputTarget;
  /** The seed input, instead of detecting the seed inputs. */
  seedInput?: InputTarget;
  /** Values for inputs, applied last, in order (a later one for the same input wins). */
  sets?: readonly InputSet[];
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

/** Something worth telling whoever asked for the patch; `index` is the entry of `sets` concerned. */
export type PatchNote =
  /** Other inputs feed the positive conditioning too; only the detected prompt input was set. */
  | { kind: 'other-positive-inputs'; inputs: InputRef[] }
  /** The prompt's node has another text box (Flux clip_l, SDXL text_l) that was left as it was. */
  | { kind: 'other-text-inputs'; nodeId: string; input: string }
  /** The value set has another kind than the value it replaced (a string where a number was). */
  | { kind: 'kind-changed'; option: 'prompt' | 'sets'; index?: number; nodeId: string; input: string; previous: unknown; value: unknown }
  /** The same input is set again; the last value wins. */
  | { kind: 'set-repeated'; index: number; nodeId: string; input: string; value: unknown }
  | { kind: 'set-overrides-prompt'; index: number; nodeId: string; input: string }
  | { kind: 'set-overrides-seed'; index: number; nodeId: string; input: string };

export interface PatchResult {
  /** A patched deep copy; the workflow passed in is not modified. */
  workflow: ApiWorkflow;
  applied: { prompt?: AppliedPrompt; seeds: AppliedSeed[]; sets: AppliedSet[] };
  notes: PatchNote[];
}

export function applyPatches(workflow: ApiWorkflow, options: PatchOptions): PatchResult {
  const patched = structuredClone(workflow);
  const notes: PatchNote[] = [];
  const applied: PatchResult['applied'] = { seeds: [], sets: [] };

  if (options.prompt !== undefined) {
    const prompt = promptTarget(patched, options.promptInput, notes);
    noteKindChange(patched, prompt, options.prompt, { option: 'prompt' }, notes);
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
  (options.sets ?? []).forEach((set, index) => {
    const ref = resolveTargetFor(patched, set, { option: 'sets', index });
    const name = `${ref.nodeId}.${ref.input}`;
    const at = { index, nodeId: ref.nodeId, input: ref.input };
    if (assigned.has(name)) notes.push({ kind: 'set-repeated', ...at, value: set.value });
    if (!assigned.has(name) && applied.prompt && sameInput(applied.prompt, ref)) notes.push({ kind: 'set-overrides-prompt', ...at });
    if (!assigned.has(name) && seed !== undefined && applied.seeds.some((s) => sameInput(s, ref))) notes.push({ kind: 'set-overrides-seed', ...at });
    noteKindChange(patched, ref, set.value, { option: 'sets', index }, notes);
    setInput(patched, ref, set.value);
    const result = { ...appliedInput(patched, ref), value: set.value };
    assigned.set(name, result);
    applied.sets.push(result);
  });

  // A set on a seed input changes the seed that is actually used.
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

function promptTarget(workflow: ApiWorkflow, promptInput: InputTarget | undefined, notes: PatchNote[]): AppliedPrompt {
  if (promptInput !== undefined) {
    return { ...appliedInput(workflow, resolveTargetFor(workflow, promptInput, { option: 'promptInput' })), detected: false };
  }
  const detection = detectPrompt(workflow);
  if (!detection.target) throw promptNotFound(workflow, detection.status, detection.candidates);
  const target = detection.target;
  const unchanged = detection.candidates.filter((c) => !sameInput(c, target) && c.feedsPositive);
  if (unchanged.length > 0) notes.push({ kind: 'other-positive-inputs', inputs: unchanged.map((c) => ({ nodeId: c.nodeId, input: c.input })) });
  return { ...appliedInput(workflow, target), detected: true, how: target.how };
}

function promptNotFound(workflow: ApiWorkflow, status: 'ambiguous' | 'none' | 'detected', candidates: DetectedInput[]): PyrosError {
  const listed = candidates.map((c) => describeInput(workflow, c)).join('; ');
  const fields = { option: 'prompt' as const, candidates: candidates.map((c) => `${c.nodeId}.${c.input}`) };
  if (status === 'ambiguous') {
    return new PyrosError('usage', `Several text inputs feed the positive conditioning, and none is titled as the prompt: ${listed}.`, { reason: 'prompt-ambiguous', fields });
  }
  const found = candidates.length > 0 ? ` Text inputs in this workflow: ${listed}.` : ' The workflow has no text inputs.';
  return new PyrosError('usage', `No prompt input was found: no text encoder feeds the positive conditioning of a sampler pyros recognises.${found}`, {
    reason: 'prompt-not-found',
    fields,
  });
}

function seedTargets(workflow: ApiWorkflow, seedInput: InputTarget | undefined, seedGiven: boolean): (AppliedInput & { detected: boolean; how?: string })[] {
  if (seedInput !== undefined) {
    const ref = resolveTargetFor(workflow, seedInput, { option: 'seedInput' });
    const current = workflow[ref.nodeId]?.inputs[ref.input];
    if (typeof current !== 'number') {
      throw new PyrosError('usage', `${describeInput(workflow, ref)} holds ${kindOf(current)}, not a seed number.`, {
        reason: 'seed-input-not-number',
        fields: { option: 'seedInput', target: { node: seedInput.node, input: seedInput.input }, node: { nodeId: ref.nodeId }, input: ref.input },
      });
    }
    return [{ ...appliedInput(workflow, ref), detected: false }];
  }
  const detection = detectSeeds(workflow);
  if (detection.targets.length === 0 && seedGiven) {
    const listed = detection.candidates.map((c) => `${describeInput(workflow, c)} (${c.how})`).join('; ');
    throw new PyrosError(
      'usage',
      `No seed input was found: no node has a seed or noise_seed input holding a number.${listed ? ` Inputs that look like seeds: ${listed}.` : ''}`,
      { reason: 'seed-not-found', fields: { option: 'seed', candidates: detection.candidates.map((c) => `${c.nodeId}.${c.input}`) } },
    );
  }
  return detection.targets.map((target) => ({ ...appliedInput(workflow, target), detected: true, how: target.how }));
}

function noteKindChange(workflow: ApiWorkflow, ref: InputRef, value: unknown, from: { option: 'prompt' | 'sets'; index?: number }, notes: PatchNote[]): void {
  const previous = workflow[ref.nodeId]?.inputs[ref.input];
  if (previous === undefined || kindOf(previous) === kindOf(value)) return;
  notes.push({ kind: 'kind-changed', ...from, nodeId: ref.nodeId, input: ref.input, previous, value });
}

/** Encoders with several text boxes (CLIPTextEncodeFlux clip_l + t5xxl, SDXL text_g + text_l): only one is the prompt. */
function noteOtherTextInputs(workflow: ApiWorkflow, prompt: InputRef, notes: PatchNote[]): void {
  const inputs = workflow[prompt.nodeId]?.inputs ?? {};
  const others = TEXT_INPUTS.filter((name) => name !== prompt.input && typeof inputs[name] === 'string' && inputs[name] !== '');
  for (const name of others) notes.push({ kind: 'other-text-inputs', nodeId: prompt.nodeId, input: name });
}

/**
 * Finding the seeds: every `seed` / `noise_seed` input holding a number (KSampler.seed,
 * KSamplerAdvanced/SamplerCustom/RandomNoise.noise_seed, …). A seed input linked to a primitive
 * node (PrimitiveInt, Seed (rgthree), …) stands for that node's value input.
 */
import type { ApiWorkflow } from './types.ts';
import { detectedInput, type DetectedInput } from './detected-input.ts';
import { describeInput, describeNode, isLink, type InputRef, type Link } from './graph.ts';

export interface SeedDetection {
  /** Every seed input a given seed is written to, each once. */
  targets: DetectedInput[];
  /** Inputs that look like seeds but cannot be set as found: linked to a node without a number, or oddly named. */
  candidates: DetectedInput[];
}

const SEED_INPUTS = new Set(['seed', 'noise_seed']);
/** Value inputs of the nodes a seed input may be linked to, in order of preference. */
const NUMBER_SOURCE_INPUTS = ['seed', 'noise_seed', 'value', 'int', 'number'];
const MAX_DEPTH = 16;

/**
 * Where the seeds are, without the words that describe them (for reading the seeds a job ran
 * with): the same inputs as `detectSeeds(workflow).targets`, in the same order.
 */
export function seedInputs(workflow: ApiWorkflow): InputRef[] {
  const found: InputRef[] = [];
  for (const nodeId in workflow) {
    const inputs = workflow[nodeId]?.inputs;
    for (const input in inputs) {
      if (!SEED_INPUTS.has(input.toLowerCase())) continue;
      const value = inputs[input];
      const ref = typeof value === 'number' ? { nodeId, input } : isLink(value) ? numberSource(workflow, value, 0) : undefined;
      if (ref && !found.some((known) => known.nodeId === ref.nodeId && known.input === ref.input)) found.push(ref);
    }
  }
  return found;
}

export function detectSeeds(workflow: ApiWorkflow): SeedDetection {
  const targets: DetectedInput[] = [];
  const candidates: DetectedInput[] = [];
  const add = (item: DetectedInput): void => {
    if (!targets.some((existing) => existing.nodeId === item.nodeId && existing.input === item.input)) targets.push(item);
  };

  for (const [nodeId, node] of Object.entries(workflow)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      const ref = { nodeId, input };
      if (!SEED_INPUTS.has(input.toLowerCase())) {
        if (/seed/i.test(input) && typeof value === 'number') candidates.push(detectedInput(workflow, ref, 'a number in an input whose name mentions seed'));
        continue;
      }
      if (typeof value === 'number') {
        add(detectedInput(workflow, ref, `a number in an input named ${input}`));
      } else if (isLink(value)) {
        const source = numberSource(workflow, value, 0);
        if (source) add(detectedInput(workflow, source, `linked from ${describeInput(workflow, ref)}`));
        else candidates.push(detectedInput(workflow, ref, `connected to ${describeNode(workflow, value[0])}, which holds no number pyros can set`));
      }
    }
  }
  return { targets, candidates: candidates.filter((c) => !targets.some((t) => t.nodeId === c.nodeId && t.input === c.input)) };
}

function numberSource(workflow: ApiWorkflow, link: Link, depth: number): InputRef | undefined {
  const [nodeId] = link;
  const inputs = workflow[nodeId]?.inputs;
  if (!inputs || depth > MAX_DEPTH) return undefined;
  const names = Object.keys(inputs);
  const name = NUMBER_SOURCE_INPUTS.map((wanted) => names.find((n) => n.toLowerCase() === wanted)).find((n) => n !== undefined) ??
    (names.length === 1 ? names[0] : undefined);
  if (name === undefined) return undefined;
  const value = inputs[name];
  if (typeof value === 'number') return { nodeId, input: name };
  return isLink(value) ? numberSource(workflow, value, depth + 1) : undefined;
}

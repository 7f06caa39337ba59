/**
 * Finding the prompt: the text of the encoder whose conditioning reaches a sampler's positive
 * input, walking links upstream through conditioning nodes (combine, area, ControlNet, guidance…).
 */
import type { ApiNode, ApiWorkflow } from './types.ts';
import { detectedInput, type DetectedInput } from './detected-input.ts';
import { describeNode, explicitTitle, isLink, type InputRef, type Link } from './graph.ts';

export interface PromptCandidate extends DetectedInput {
  /** Its text reaches a sampler's positive conditioning (otherwise it is just a text input feeding no negative). */
  feedsPositive: boolean;
}

export interface PromptDetection {
  /** detected: one input found; ambiguous: several feed positive conditioning; none: nothing found. */
  status: 'detected' | 'ambiguous' | 'none';
  target: PromptCandidate | undefined;
  /** Text inputs feeding positive conditioning first, then other text inputs that feed no negative. */
  candidates: PromptCandidate[];
}

/** Text inputs of encoders, in the order one is preferred when a node has several. */
export const TEXT_INPUTS = [
  'text', 'prompt', 'positive', 'user_prompt', 'text_g', 'llama', 't5xxl', 'clip_l', 'clip_g', 'text_l', 'mt5xl', 'bert', 'tags',
  'populated_text', 'wildcard_text',
];
/** Inputs holding the text of a node that only passes a string on (PrimitiveString, String Literal…). */
const STRING_SOURCE_INPUTS = ['value', 'string', ...TEXT_INPUTS];

/** Conditioning inputs of the samplers and guiders pyros knows by name. */
const SAMPLERS: Record<string, { positive: string[]; negative: string[] }> = {
  KSampler: { positive: ['positive'], negative: ['negative'] },
  KSamplerAdvanced: { positive: ['positive'], negative: ['negative'] },
  SamplerCustom: { positive: ['positive'], negative: ['negative'] },
  CFGGuider: { positive: ['positive'], negative: ['negative'] },
  PerpNegGuider: { positive: ['positive'], negative: ['negative', 'empty_conditioning'] },
  DualCFGGuider: { positive: ['cond1'], negative: ['negative'] },
  BasicGuider: { positive: ['conditioning'], negative: [] },
};

/** Links that never carry conditioning; the walk does not follow them into unknown nodes. */
const NOT_CONDITIONING = new Set([
  'model', 'clip', 'vae', 'clip_vision', 'clip_vision_output', 'control_net', 'style_model', 'upscale_model', 'image', 'images',
  'pixels', 'mask', 'latent', 'latent_image', 'samples', 'noise', 'sampler', 'sigmas', 'guider', 'audio', 'video',
]);

const MAX_DEPTH = 64;
const TITLE_SAYS_PROMPT = /positive|prompt/i;
const TITLE_SAYS_NEGATIVE = /negative/i;

interface Found {
  ref: InputRef;
  /** Conditioning nodes walked through, from the sampler upstream. */
  via: string[];
  /** The node whose text input is linked to the node holding the text. */
  textFrom?: string;
}

export function detectPrompt(workflow: ApiWorkflow): PromptDetection {
  const positives: PromptCandidate[] = [];
  const negatives = new Set<string>();
  let samplers = 0;

  for (const [samplerId, node] of Object.entries(workflow)) {
    const sampler = samplerInputs(node);
    if (!sampler) continue;
    samplers++;
    for (const name of sampler.positive) {
      for (const found of walkInput(workflow, node, name)) {
        const how = describeWalk(workflow, `positive conditioning of ${describeNode(workflow, samplerId)}`, found);
        addUnique(positives, { ...detectedInput(workflow, found.ref, how), feedsPositive: true });
      }
    }
    for (const name of sampler.negative) {
      for (const found of walkInput(workflow, node, name)) negatives.add(found.ref.nodeId);
    }
  }

  // A negative encoder's other text boxes (SDXL text_l beside text_g) are negative too, so whole nodes are left out.
  const others = otherTextInputs(workflow).filter((ref) => !negatives.has(ref.nodeId) && !positives.some((p) => key(p) === key(ref)));
  const candidates = [...positives, ...others];

  if (positives.length === 1) return { status: 'detected', target: positives[0], candidates };
  if (positives.length > 1) {
    const preferred = preferByTitle(workflow, positives);
    if (preferred) {
      const target = { ...preferred, how: `${preferred.how}; chosen by its title among ${positives.length} text inputs` };
      return { status: 'detected', target, candidates };
    }
    return { status: 'ambiguous', target: undefined, candidates };
  }
  // Without a sampler pyros knows (custom sampler nodes), a single text input titled as the prompt is taken.
  const titled = samplers === 0 ? preferByTitle(workflow, others) : undefined;
  if (titled) return { status: 'detected', target: { ...titled, how: 'its title (no sampler pyros recognises)' }, candidates };
  return { status: 'none', target: undefined, candidates };
}

function samplerInputs(node: ApiNode): { positive: string[]; negative: string[] } | undefined {
  const known = SAMPLERS[node.class_type];
  if (known) return known;
  // Custom samplers (KSampler (Efficient), …) look like KSampler: linked positive/negative plus sampling settings.
  const inputs = node.inputs;
  const samples = ['seed', 'noise_seed', 'steps', 'cfg'].some((name) => Object.hasOwn(inputs, name));
  return samples && isLink(inputs['positive']) && isLink(inputs['negative']) ? { positive: ['positive'], negative: ['negative'] } : undefined;
}

function walkInput(workflow: ApiWorkflow, node: ApiNode, input: string): Found[] {
  const value = node.inputs[input];
  return isLink(value) ? walk(workflow, value, [], new Set()) : [];
}

/** Everything the conditioning arriving through `link` was encoded from. */
function walk(workflow: ApiWorkflow, link: Link, via: string[], visited: Set<string>): Found[] {
  const [nodeId, output] = link;
  const node = workflow[nodeId];
  if (!node || visited.has(nodeId) || via.length > MAX_DEPTH) return [];
  visited.add(nodeId);

  const linked = Object.entries(node.inputs).filter((entry): entry is [string, Link] => isLink(entry[1]));
  const carriesConditioning = linked.filter(([name]) => /^cond|conditioning/i.test(name));
  const pairs = linked.filter(([name]) => /^(positive|negative)/i.test(name));
  // A node with conditioning inputs of its own (GLIGENTextBoxApply, CLIPTextEncodeControlnet) adds to them: the prompt is upstream.
  if (carriesConditioning.length === 0 && pairs.length === 0) {
    const text = encoderText(workflow, nodeId);
    if (text) return [{ ...text, via }];
  }

  let follow: [string, Link][];
  if (pairs.length > 0) {
    // ControlNetApplyAdvanced, InpaintModelConditioning, …: output 0 is the positive, output 1 the negative.
    const side = output === 0 ? /^positive/i : /^negative/i;
    follow = pairs.filter(([name]) => side.test(name));
  } else if (carriesConditioning.length > 0) {
    follow = carriesConditioning;
  } else {
    follow = linked.filter(([name]) => !NOT_CONDITIONING.has(name.toLowerCase()));
  }
  return follow.flatMap(([, upstream]) => walk(workflow, upstream, [...via, nodeId], visited));
}

/** The preferred text input of an encoder holding a string, directly or through a link to a string node. */
function encoderText(workflow: ApiWorkflow, nodeId: string): Omit<Found, 'via'> | undefined {
  const inputs = workflow[nodeId]?.inputs ?? {};
  for (const name of TEXT_INPUTS.filter((text) => Object.hasOwn(inputs, text))) {
    const value = inputs[name];
    if (typeof value === 'string') return { ref: { nodeId, input: name } };
    if (isLink(value)) {
      const source = stringSource(workflow, value, 0);
      if (source) return { ref: source, textFrom: nodeId };
    }
  }
  return undefined;
}

/** Follows a linked text input to the node that holds the string (PrimitiveStringMultiline.value, …). */
function stringSource(workflow: ApiWorkflow, link: Link, depth: number): InputRef | undefined {
  const [nodeId] = link;
  const inputs = workflow[nodeId]?.inputs;
  if (!inputs || depth > MAX_DEPTH) return undefined;
  const names = Object.keys(inputs);
  const name = STRING_SOURCE_INPUTS.map((wanted) => names.find((n) => n.toLowerCase() === wanted)).find((n) => n !== undefined) ??
    (names.length === 1 ? names[0] : undefined);
  if (name === undefined) return undefined;
  const value = inputs[name];
  if (typeof value === 'string') return { nodeId, input: name };
  return isLink(value) ? stringSource(workflow, value, depth + 1) : undefined;
}

/** Text inputs holding a string anywhere in the graph, for listing candidates. */
function otherTextInputs(workflow: ApiWorkflow): PromptCandidate[] {
  return Object.entries(workflow).flatMap(([nodeId, node]) =>
    TEXT_INPUTS.filter((name) => typeof node.inputs[name] === 'string').map((input) => ({
      ...detectedInput(workflow, { nodeId, input }, 'text input that feeds no sampler pyros recognises'),
      feedsPositive: false,
    })),
  );
}

function preferByTitle(workflow: ApiWorkflow, inputs: PromptCandidate[]): PromptCandidate | undefined {
  const titled = inputs.filter((candidate) => {
    const node = workflow[candidate.nodeId];
    const title = node ? explicitTitle(node) : undefined;
    return title !== undefined && TITLE_SAYS_PROMPT.test(title) && !TITLE_SAYS_NEGATIVE.test(title);
  });
  return titled.length === 1 ? titled[0] : undefined;
}

function describeWalk(workflow: ApiWorkflow, start: string, found: Found): string {
  const through = found.via.length > 0 ? ` through ${found.via.map((id) => describeNode(workflow, id)).join(' ← ')}` : '';
  const text = found.textFrom !== undefined ? `, text linked into ${describeNode(workflow, found.textFrom)}` : '';
  return `${start}${through}${text}`;
}

function key(ref: InputRef): string {
  return `${ref.nodeId}\u0000${ref.input}`;
}

function addUnique(list: PromptCandidate[], item: PromptCandidate): void {
  if (!list.some((existing) => key(existing) === key(item))) list.push(item);
}

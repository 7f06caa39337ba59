/** The workflow layer: read a workflow from any source, find its prompt and seed inputs, patch inputs. */
export { loadWorkflow, parseWorkflow, requireApiWorkflow } from './load.ts';
export {
  readWorkflowSource,
  readWorkflowSourceFrom,
  workflowSourceFromBytes,
  type ByteSource,
  type EditorWorkflow,
  type WorkflowOrigin,
  type WorkflowSource,
} from './source.ts';
export { detectPrompt, detectSeeds, TEXT_INPUTS, type DetectedInput, type PromptCandidate, type PromptDetection, type SeedDetection } from './detect.ts';
export {
  applyPatches,
  type AppliedInput,
  type AppliedPrompt,
  type AppliedSeed,
  type AppliedSet,
  type InputSet,
  type PatchNote,
  type PatchOptions,
  type PatchResult,
} from './patch.ts';
export { resolveTarget, type InputTarget } from './target.ts';
export { parseSeed, randomSeed, MAX_SEED, RANDOM_SEED_LIMIT } from './seed.ts';
export { describeInput, describeNode, isLink, kindOf, nodeTitle, showValue, type InputRef, type Link } from './graph.ts';
export { locateJsonError, lineAndColumn, type JsonErrorLocation, type TextPosition } from './json-position.ts';

/** Finding the prompt and seed inputs of a workflow when none is configured. */
export { detectPrompt, TEXT_INPUTS, type PromptCandidate, type PromptDetection } from './detect-prompt.ts';
export { detectSeeds, type SeedDetection } from './detect-seed.ts';
export type { DetectedInput } from './detected-input.ts';

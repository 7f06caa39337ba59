/** Converting workflows saved by the ComfyUI editor into the API prompt the editor itself would send. */
export { isEditorWorkflow } from './detect.ts';
export { convertEditorWorkflow, sourceKey, type ConversionResult, type ConvertOptions } from './convert.ts';
export { MissingNodeClassesError, type MissingNodeClass } from './errors.ts';
export type { ConversionReport, DroppedInput, NodeMention } from './report.ts';
export { processDynamicPrompt } from './dynamic-prompt.ts';
export type { EditorWorkflow, EditorNode } from './types.ts';
export { cachedDefinitions, definitionsCachePath, type DefinitionsCacheKey } from './definitions-cache.ts';
export { workflowWithValues, type EmbeddedWorkflow } from './embed.ts';

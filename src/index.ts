/** pyros as a library: drive ComfyUI from TypeScript. No terminal code is reachable from here. */
export { Client, type ClientOptions } from './client/client.ts';
export { Pool, PoolJob, type PoolOptions, type PoolEvents, type PoolJobEvents, type PoolJobResult, type PoolAttempt, type PoolServerInfo, type ServerState } from './client/pool.ts';
export { Job, type JobEvents, type JobOptions, type JobPhase, type JobResult, type JobTimings, type PromptWarning, type QueuePosition, type SeedValue, type Submission } from './client/job.ts';
export type { InputUpload, UploadedInput } from './client/uploads.ts';
/** `client.api`: the server's HTTP routes (queue, history, view, upload …). */
export { PromptRejectedError, type ComfyApi, type PromptRequest, type QueueEntry, type QueueState } from './client/api.ts';
export { UpgradeRefusedError } from './client/socket.ts';
export type { ImageMime } from './client/binary.ts';
export type { OutputItem } from './client/messages.ts';
export type { Endpoint, EndpointOptions } from './client/endpoint.ts';
export { ExecutionError, InterruptedError, JobTimeoutError } from './client/job-errors.ts';
export type { NodeRef, OutputRef, TextOutput } from './client/types.ts';
export type { ApiNode, ApiWorkflow } from './workflow/types.ts';
export { saveJobOutputs, savePartialOutputs, type SaveProgress } from './outputs/save-job.ts';
export type { SaveContext, SavedFile } from './outputs/save.ts';
export { PyrosError, isPyrosError, type ErrorKind, type ErrorReason, type ErrorReasons, type ErrorFields, type ErrorNode } from './errors.ts';
export {
  loadWorkflow,
  parseWorkflow,
  applyPatches,
  resolveTarget,
  detectPrompt,
  detectSeeds,
  parseSeed,
  type InputSet,
  type InputTarget,
  type PatchNote,
  type PatchOptions,
  type PatchResult,
} from './workflow/index.ts';
export { readWorkflowSource, workflowSourceFromBytes, type EditorWorkflow, type WorkflowOrigin, type WorkflowSource } from './workflow/index.ts';
export {
  convertEditorWorkflow,
  isEditorWorkflow,
  cachedDefinitions,
  MissingNodeClassesError,
  type ConversionReport,
  type ConversionResult,
  type ConvertOptions,
  type MissingNodeClass,
} from './workflow/editor/index.ts';
export { expandPrompt, listVariables, variableDirs, type Expansion, type VariableInfo } from './vars/index.ts';

/** pyros as a library: drive ComfyUI from TypeScript. No terminal code is reachable from here. */
export { Client, type ClientOptions } from './client/client.ts';
export { Pool, PoolJob, type PoolOptions, type PoolEvents, type PoolJobEvents, type PoolJobResult, type PoolAttempt, type PoolServerInfo, type ServerState } from './client/pool.ts';
export { Job, type JobEvents, type JobOptions, type JobResult, type PromptWarning, type QueuePosition, type Submission } from './client/job.ts';
export { ComfyApi, PromptRejectedError, type PromptRequest, type QueueEntry, type QueueState } from './client/api.ts';
export { ComfySocket, UpgradeRefusedError, backoffDelay, type SocketEvents, type SocketOptions } from './client/socket.ts';
export { decodeBinaryFrame, type BinaryFrame, type ImageMime, type PreviewMetadata } from './client/binary.ts';
export { parseServerMessage, type ServerMessage, type OutputItem } from './client/messages.ts';
export { parseEndpoint, maskSecrets, DEFAULT_SERVER, type Endpoint, type EndpointOptions } from './client/endpoint.ts';
export { ExecutionError, InterruptedError } from './client/job-errors.ts';
export type { NodeRef, OutputRef, TextOutput } from './client/types.ts';
export type { ApiNode, ApiWorkflow } from './workflow/types.ts';
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

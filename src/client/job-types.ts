/** The public types of a Job: its options, events, result and submission state. */
import type { ComfyApi } from './api.ts';
import type { ImageMime } from './binary.ts';
import type { HistoryEntry } from './schemas-http.ts';
import type { ComfySocket } from './socket.ts';
import type { ApiWorkflow, NodeRef, OutputRef, TextOutput } from './types.ts';
import type { InputUpload, UploadCache, UploadedInput } from './uploads.ts';
import type { SeedValue } from '../workflow/seed-values.ts';

export type { SeedValue };

export interface JobOptions {
  /** Defaults to a fresh UUID. */
  promptId?: string;
  /** Extra fields for the POST body's `extra_data` (client_id is added). */
  extraData?: Record<string, unknown>;
  /** Queue it ahead of the prompts already waiting (`front: true`). */
  front?: boolean;
  /** Run only what these output nodes need (`partial_execution_targets`); default: every output. */
  outputs?: readonly string[];
  /** Files to upload before the prompt is submitted; each input is set to the stored name. */
  uploads?: readonly InputUpload[];
  /** Overall limit in ms; the job is cancelled on the server when it is reached. */
  timeoutMs?: number;
  /** When nothing arrived for this long while the job runs, its state is checked over HTTP. */
  quietCheckMs?: number;
  /** How long to keep reading /history after the end of the run before giving up. */
  historyWaitMs?: number;
  /** Cancels the job (as `cancel()` does) when the signal aborts. */
  signal?: AbortSignal;
  /**
   * Awaited right before POST /prompt, with the prompt id and the server it goes to: a caller
   * records them durably here, so that a prompt the server got is never unknown to it. When it
   * throws, nothing is sent and the job fails with that error.
   */
  beforeSubmit?: (info: { promptId: string; server: string }) => Promise<void> | void;
  /**
   * When the answer to POST /prompt is lost (cut, timed out, 5xx), how long to keep looking for
   * the prompt in /queue and /history before it counts as never queued (default 4 000 ms).
   */
  lostAnswerCheckMs?: number;
}

export interface PromptWarning {
  nodeId: string;
  title: string;
  message: string;
}

export interface QueuePosition {
  /** 1 = next to run. */
  position: number;
  /** Prompts that will run before ours, the running one included. */
  ahead: number;
  pending: number;
  running: number;
}

export interface JobTimings {
  /** When the prompt was submitted (for a followed prompt: when it started, as far as known). */
  submittedAt: number;
  startedAt: number | undefined;
  finishedAt: number;
}

export interface JobResult {
  promptId: string;
  number: number | undefined;
  /** The prompt as the server ran it (uploads applied). */
  workflow: ApiWorkflow;
  /** The seed inputs of that prompt and their values. */
  seeds: SeedValue[];
  outputs: OutputRef[];
  texts: TextOutput[];
  /** Images that arrived only over the socket (SaveImageWebsocket). */
  socketImages: { node: NodeRef; mime: ImageMime; image: Buffer }[];
  cachedNodes: string[];
  warnings: PromptWarning[];
  timings: JobTimings;
  history: HistoryEntry;
}

/** Event name → payload, for `job.on(name, listener)`. */
export type JobEvents = {
  /** A file was uploaded (or an earlier upload reused) and its input set. */
  uploaded: [info: UploadedInput];
  /** The server has the prompt: after POST /prompt, or when a followed prompt was found. */
  submitted: [info: { promptId: string; number: number | undefined; warnings: PromptWarning[] }];
  queued: [info: QueuePosition];
  started: [];
  cached: [info: { nodes: NodeRef[] }];
  node: [node: NodeRef];
  progress: [info: { node: NodeRef; value: number; max: number }];
  /** Nodes done (finished or cached) out of the workflow's nodes. */
  overall: [info: { done: number; total: number }];
  preview: [info: { mime: ImageMime; image: Buffer; node: NodeRef | undefined }];
  executed: [info: { node: NodeRef; output: Record<string, unknown> }];
  text: [info: { node: NodeRef; text: string }];
  /** The socket dropped, reopened, or the job fell back to HTTP checks. */
  connection: [info: { state: 'reconnecting' | 'reconnected' | 'checking'; attempt?: number; delayMs?: number; reason?: string }];
  /** Something worth a diagnostic line (malformed frame, failed check). */
  debug: [message: string];
};

/**
 * Whether the server got the prompt: `not-sent` (it failed before POST /prompt reached the server,
 * so resubmitting cannot run it twice), `unknown` (the answer to the POST was lost and the server
 * could not be asked since), `absent` (the answer was lost, and the server, asked several times
 * since, does not have the prompt: resubmitting cannot run it twice either), or `accepted` (the
 * POST answered, or the prompt was found in /queue or /history after a lost answer). `pending`
 * while it is still being prepared or submitted; `rejected` after a 400.
 */
export type Submission = 'pending' | 'not-sent' | 'unknown' | 'absent' | 'accepted' | 'rejected';

export interface JobContext {
  api: ComfyApi;
  socket: ComfySocket;
  uploads: UploadCache;
  /** Opens the socket if needed. */
  ready(): Promise<void>;
}

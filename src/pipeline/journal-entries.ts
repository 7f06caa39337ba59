/**
 * The entries of a run's journal (one JSON object per line, in the order things happened). A job
 * is named by its plan and its index in that plan. The plan holds the base workflow once; each
 * job adds only its seed and prompt (`jobs`), then what preparing it changed (`prepared`).
 *
 *   run         the run: its id, command, servers, output folder (first line)
 *   plan        a workflow and how every job of it is made (a batch has one, a session several)
 *   jobs        jobs of a plan: [index, prompt (index into the plan's prompts), seed], in chunks
 *   prepared    the inputs a job changed in the base workflow, its prompt text and variable choices
 *   dispatched  about to be submitted as prompt_id to server (written before POST /prompt)
 *   finished    the run on the server ended; the outputs it lists
 *   placing     an output's download is complete and about to take its final name
 *   saved       an output is saved with its sidecars
 *   done        the job's end: ok, or where and how it failed
 *   resumed     a later process took the run over
 *   end         every job has ended for good
 */
import type { EditorWorkflow } from '../workflow/editor/index.ts';
import type { ApiWorkflow } from '../workflow/types.ts';
import type { Choice } from '../vars/index.ts';

export const JOURNAL_VERSION = 1;

export interface RunEntry {
  type: 'run';
  v: number;
  run: string;
  command: string;
  started: string;
  pid: number;
  output: string;
  servers: string[];
}

/** How a plan's `patch` was made (inputs set on every job, where the prompt and seed go), so that it can be made again. */
export interface PlanRecipe {
  promptInput?: string;
  seedInput?: string;
  /** `NODE.INPUT=VALUE` (files to upload are in `uploads`). */
  sets: string[];
}

export interface PlanEntry {
  type: 'plan';
  plan: number;
  workflow: ApiWorkflow;
  workflowFile?: string;
  recipe: PlanRecipe;
  uploads: { nodeId: string; input: string; path: string; folder?: 'input' | 'output' }[];
  variableDirs: string[];
  timeoutMs?: number;
  retries: number;
  total: number;
  /** The prompts of its jobs as given (they may hold variables); null keeps the workflow's. */
  prompts: (string | null)[];
  /** Queued ahead of the prompts waiting; only these output nodes run. */
  front?: boolean;
  outputs?: string[];
  /** The editor workflow that goes with the outputs (a resumed job embeds it as it was given). */
  editor?: EditorWorkflow;
}

/** A job: its index in the plan, its prompt (an index into the plan's prompts) and its seed (null: the workflow's). */
export type JobRow = [index: number, prompt: number, seed: number | null];

export interface JobsEntry {
  type: 'jobs';
  plan: number;
  jobs: JobRow[];
}

interface JobEntryBase {
  plan: number;
  job: number;
}

export interface PreparedEntry extends JobEntryBase {
  type: 'prepared';
  /** Inputs whose value differs from the base workflow (the plan's workflow with its sets): [node, input, value]. */
  changes: [string, string, unknown][];
  prompt?: { text: string; nodeId: string; input: string };
  variables?: { template: string; choices: Choice[]; seed: number };
}

export interface DispatchedEntry extends JobEntryBase {
  type: 'dispatched';
  prompt_id: string;
  server: string;
}

export interface FinishedEntry extends JobEntryBase {
  type: 'finished';
  prompt_id: string;
  server: string;
  /** Output keys (type/subfolder/filename) with their node. */
  outputs: [key: string, node: string][];
}

export interface PlacingEntry extends JobEntryBase {
  type: 'placing';
  output: string;
  temp: string;
  name: string;
}

export interface SavedEntry extends JobEntryBase {
  type: 'saved';
  output: string;
  /** File names in the output folder. */
  file: string;
  bytes: number;
  node: string;
  sidecars: string[];
}

export interface DoneEntry extends JobEntryBase {
  type: 'done';
  ok: boolean;
  prompt_id?: string;
  server?: string;
  stage?: 'prepare' | 'run' | 'save';
  kind?: string;
  reason?: string;
  message?: string;
  /**
   * What the run's summary lists, so that it is read back from here rather than held in memory
   * (a journal of an older version lacks them): the files saved (names in the output folder),
   * every submission, the prompt text it ran with, the start of its text outputs, and the time
   * limit a timeout was about.
   */
  files?: DoneFile[];
  attempts?: DoneAttempt[];
  prompt?: string;
  text?: string;
  limit_ms?: number;
}

export interface DoneFile {
  file: string;
  bytes: number;
  node: string;
  sidecars: string[];
}

export interface DoneAttempt {
  server: string;
  prompt_id: string;
  outcome: string;
  reason?: string;
}

export interface ResumedEntry {
  type: 'resumed';
  at: string;
  pid: number;
}

export interface EndEntry {
  type: 'end';
  at: string;
}

export type JournalEntry = RunEntry | PlanEntry | JobsEntry | PreparedEntry | DispatchedEntry | FinishedEntry | PlacingEntry | SavedEntry | DoneEntry | ResumedEntry | EndEntry;

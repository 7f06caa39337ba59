/**
 * What pyros knows of a job beyond the prompt the server runs: the prompt text and where it
 * went, its template and variable choices, the workflow file, uploaded inputs, its place in a
 * batch. It travels with the prompt (in `extra_data.pyros`), so that whoever follows the prompt
 * later (`pyros fetch`, a resumed batch) writes the same sidecars as the run that submitted it.
 */
import type { HistoryEntry } from '../client/schemas-http.ts';
import type { ApiWorkflow } from '../workflow/types.ts';
import type { Choice } from '../vars/index.ts';
import { detectPrompt } from '../workflow/index.ts';

export interface JobRecord {
  /** 1-based job number in its batch, and the batch size. */
  batch?: { job: number; of: number };
  /** The prompt text that was set, and the input it was set in. */
  prompt?: { text: string; nodeId: string; input: string };
  /** When the prompt held variables: the template, the choices and the seed they were made with. */
  variables?: { template: string; choices: Choice[]; seed: number };
  /** The workflow file, as an absolute path. */
  workflowFile?: string;
  /** Files uploaded into inputs (the values they were given are in the workflow that ran). */
  inputs?: { path: string; nodeId: string; input: string }[];
}

const KEY = 'pyros';

/** The `extra_data` entry that carries the record with the prompt. */
export function recordExtraData(record: JobRecord): Record<string, unknown> {
  return { [KEY]: { v: 1, ...record } };
}

/** The record a prompt carries, or one recovered from its workflow (prompt text by detection). */
export function recordOf(history: HistoryEntry | undefined, workflow: ApiWorkflow): JobRecord {
  const extra = history?.prompt?.[3] as Record<string, unknown> | undefined;
  const carried = extra?.[KEY];
  if (typeof carried === 'object' && carried !== null && (carried as { v?: unknown }).v === 1) {
    const { v: _v, ...record } = carried as JobRecord & { v: number };
    return record;
  }
  const detected = detectPrompt(workflow).target;
  const text = detected ? workflow[detected.nodeId]?.inputs[detected.input] : undefined;
  return typeof text === 'string' && detected ? { prompt: { text, nodeId: detected.nodeId, input: detected.input } } : {};
}

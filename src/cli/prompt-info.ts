/** Reading queued and finished prompts for people: node names, status, timings, errors. */
import { collectOutputs } from '../client/outputs.ts';
import type { HistoryEntry } from '../client/schemas-http.ts';
import type { OutputRef, TextOutput } from '../client/types.ts';

type Prompt = Record<string, unknown> | undefined;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function classOf(prompt: Prompt, nodeId: string): string | undefined {
  const type = record(prompt?.[nodeId])?.class_type;
  return typeof type === 'string' ? type : undefined;
}

/** The node's title in the editor, else its class. */
export function titleOf(prompt: Prompt, nodeId: string): string | undefined {
  const title = record(record(prompt?.[nodeId])?._meta)?.title;
  return typeof title === 'string' && title.trim() !== '' ? title : classOf(prompt, nodeId);
}

/** `#9 "Save Image"`, or `#9` when the workflow is not known. */
export function nodeLabel(prompt: Prompt, nodeId: string): string {
  const title = titleOf(prompt, nodeId);
  return title === undefined ? `#${nodeId}` : `#${nodeId} "${title}"`;
}

export function shortId(id: string | undefined): string {
  return id === undefined ? '' : id.slice(0, 8);
}

export type PromptStatus = 'success' | 'error' | 'interrupted' | 'unknown';

export interface PromptFailure {
  node_id: string | undefined;
  node_type: string | undefined;
  exception_type: string | undefined;
  exception_message: string | undefined;
  traceback: string[];
}

export interface HistorySummary {
  promptId: string;
  number: number | undefined;
  clientId: string | undefined;
  prompt: Prompt;
  status: PromptStatus;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  durationMs: number | undefined;
  cachedNodes: string[];
  outputs: OutputRef[];
  texts: TextOutput[];
  /** For a failed prompt: the node and its exception (never its inputs). */
  failure: PromptFailure | undefined;
  /** For an interrupted prompt: the node it stopped in, when known. */
  interruptedIn: { node_id: string | undefined; node_type: string | undefined } | undefined;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function summarizeHistory(promptId: string, entry: HistoryEntry): HistorySummary {
  const prompt = entry.prompt;
  const workflow = record(prompt?.[2]);
  const extra = record(prompt?.[3]);
  let status: PromptStatus = entry.status?.status_str === 'success' ? 'success' : entry.status?.status_str === 'error' ? 'error' : 'unknown';
  let startedAt: number | undefined;
  let finishedAt: number | undefined;
  let cachedNodes: string[] = [];
  let failure: PromptFailure | undefined;
  let interruptedIn: HistorySummary['interruptedIn'];
  for (const message of entry.status?.messages ?? []) {
    if (!Array.isArray(message)) continue;
    const [event, raw] = message as [unknown, unknown];
    const data = record(raw) ?? {};
    const timestamp = typeof data.timestamp === 'number' ? data.timestamp : undefined;
    if (event === 'execution_start') startedAt = timestamp;
    else if (event === 'execution_cached' && Array.isArray(data.nodes)) cachedNodes = data.nodes.map(String);
    else if (event === 'execution_success') finishedAt = timestamp;
    else if (event === 'execution_error') {
      finishedAt = timestamp;
      status = 'error';
      failure = {
        node_id: str(data.node_id),
        node_type: str(data.node_type),
        exception_type: str(data.exception_type),
        exception_message: str(data.exception_message)?.trimEnd(),
        traceback: Array.isArray(data.traceback) ? data.traceback.filter((line): line is string => typeof line === 'string') : [],
      };
    } else if (event === 'execution_interrupted') {
      finishedAt = timestamp;
      status = 'interrupted';
      interruptedIn = { node_id: str(data.node_id), node_type: str(data.node_type) };
    }
  }
  const { outputs, texts } = collectOutputs(entry);
  return {
    promptId,
    number: typeof prompt?.[0] === 'number' ? prompt[0] : undefined,
    clientId: str(extra?.client_id),
    prompt: workflow,
    status,
    startedAt,
    finishedAt,
    durationMs: startedAt !== undefined && finishedAt !== undefined ? Math.max(0, finishedAt - startedAt) : undefined,
    cachedNodes,
    outputs,
    texts,
    failure,
    interruptedIn,
  };
}

/** `2025-03-07 14:05:09` in local time. */
export function formatTimestamp(ms: number | undefined): string {
  if (ms === undefined) return '';
  const date = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

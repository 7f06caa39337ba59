/**
 * What the replayed server knows about each prompt, derived from the recording and from how far
 * the playback has got: when it started (first frame naming it), when its history exists (the
 * terminal `executing {node: null}`, or where the recorder first saw a non-empty history), the
 * history body, and the queue as GET /queue would show it.
 */
import type { Playback } from './playback.ts';
import { routeOf } from './playback.ts';
import type { Exchange, RecordedEvent, Recording } from './recording.ts';

interface RecordedPrompt {
  recordedId: string;
  number: number | undefined;
  /** First frame (any socket) that names the prompt: from here it runs. */
  startIndex: number | undefined;
  /** From here GET /history/{id} lists it; undefined when it never appears there. */
  historyIndex: number | undefined;
  /** The last non-empty recorded GET /history/{id} body. */
  history: unknown;
  outputsToExecute: unknown;
}

export interface Submission {
  recordedId: string;
  body: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mentions(value: unknown, id: string): boolean {
  if (value === id) return true;
  if (Array.isArray(value)) return value.some((item) => mentions(item, id));
  if (isRecord(value)) return Object.entries(value).some(([key, item]) => key === id || mentions(item, id));
  return false;
}

function frameMentions(event: RecordedEvent, id: string): boolean {
  if (event.kind === 'text') return mentions(event.json, id);
  if (event.kind === 'binary') return mentions(event.frame.decoded.metadata, id);
  return false;
}

function isTerminal(event: RecordedEvent, id: string): boolean {
  if (event.kind !== 'text' || !isRecord(event.json) || event.json.type !== 'executing') return false;
  const data = event.json.data;
  return isRecord(data) && data.node === null && data.prompt_id === id;
}

function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && Object.keys(value).length > 0;
}

/** [running ids, pending ids] of a recorded /queue body. */
function queueIds(body: unknown): [string[], string[]] {
  const ids = (list: unknown): string[] => (Array.isArray(list) ? list.map((entry) => (Array.isArray(entry) ? String(entry[1]) : '')) : []);
  return isRecord(body) ? [ids(body.queue_running), ids(body.queue_pending)] : [[], []];
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

const HISTORY_MESSAGES = new Set(['execution_start', 'execution_cached', 'execution_success', 'execution_error', 'execution_interrupted']);

/**
 * The history entry the server would have stored, built from the recorded frames, for a prompt
 * that ran to its terminal frame but whose history the recorder never fetched (k_observer).
 */
function synthesizedHistory(recording: Recording, post: Exchange, id: string): unknown {
  const frames = recording.events.flatMap((event) => {
    if (event.kind !== 'text' || !isRecord(event.json) || !isRecord(event.json.data) || event.json.data.prompt_id !== id) return [];
    return [{ type: String(event.json.type), data: event.json.data }];
  });
  if (!frames.some((frame) => frame.type === 'executing' && frame.data.node === null)) return undefined;
  const outputs: Record<string, unknown> = {};
  const meta: Record<string, unknown> = {};
  for (const { type, data } of frames) {
    if (type !== 'executed' || typeof data.node !== 'string') continue;
    outputs[data.node] = data.output;
    meta[data.node] = { node_id: data.node, display_node: data.display_node ?? data.node, parent_node: null, real_node_id: data.node };
  }
  const messages = frames.filter((frame) => HISTORY_MESSAGES.has(frame.type)).map(({ type, data }) => [type, data]);
  const success = frames.some((frame) => frame.type === 'execution_success');
  const request = isRecord(post.request.json) ? post.request.json : {};
  const accepted = isRecord(post.response.json) ? post.response.json : {};
  const extraData = typeof request.client_id === 'string' ? { client_id: request.client_id } : {};
  return {
    [id]: {
      prompt: [accepted.number, id, request.prompt, extraData, Object.keys(outputs)],
      outputs: success ? outputs : {},
      status: { status_str: success ? 'success' : 'error', completed: success, messages },
      meta,
    },
  };
}

export class PromptLedger {
  /** Every recorded POST /prompt, accepted or not, in order: the client's N-th POST gets the N-th. */
  readonly posts: Exchange[];
  private readonly prompts = new Map<string, RecordedPrompt>();
  private readonly submissions: Submission[] = [];
  private readonly deleted = new Set<string>();
  private readonly recordedQueues: Exchange[];
  private readonly playback: Playback;

  constructor(recording: Recording, playback: Playback) {
    this.playback = playback;
    this.posts = recording.exchanges.filter((e) => e.request.method === 'POST' && routeOf(e.request.path) === '/prompt');
    this.recordedQueues = recording.exchanges.filter((e) => e.request.method === 'GET' && routeOf(e.request.path) === '/queue' && e.response.status === 200);
    for (const post of this.posts) {
      const accepted = post.response.json;
      if (post.response.status !== 200 || !isRecord(accepted) || typeof accepted.prompt_id !== 'string') continue;
      const id = accepted.prompt_id;
      const later = recording.events.filter((event) => event.index > post.requestIndex);
      const histories = recording.exchanges.filter(
        (e) => e.request.method === 'GET' && routeOf(e.request.path) === `/history/${id}` && isNonEmptyObject(e.response.json),
      );
      const history = histories.at(-1)?.response.json ?? synthesizedHistory(recording, post, id);
      const entry = isRecord(history) ? history[id] : undefined;
      this.prompts.set(id, {
        recordedId: id,
        number: typeof accepted.number === 'number' ? accepted.number : undefined,
        startIndex: later.find((event) => frameMentions(event, id))?.index,
        historyIndex: later.find((event) => isTerminal(event, id))?.index ?? histories[0]?.responseIndex,
        history,
        outputsToExecute: isRecord(entry) && Array.isArray(entry.prompt) ? entry.prompt[4] : this.recordedOutputsToExecute(id),
      });
    }
  }

  submitted(submission: Submission): void {
    this.submissions.push(submission);
  }

  /** POST /queue {delete: [...]} / {clear: true}: pending prompts leave the queue and never run. */
  deletePending(recordedIds: string[] | 'all'): void {
    for (const { recordedId } of this.submissions) {
      if ((recordedIds === 'all' || recordedIds.includes(recordedId)) && !this.isStarted(recordedId)) this.deleted.add(recordedId);
    }
  }

  /** GET /history/{id} body, with recorded ids (the caller maps them). */
  historyBody(recordedId: string): unknown {
    const prompt = this.prompts.get(recordedId);
    if (!prompt || prompt.historyIndex === undefined || this.deleted.has(recordedId)) return {};
    return this.playback.passed(prompt.historyIndex) ? prompt.history ?? {} : {};
  }

  /** GET /queue body: the recorded body when it lists the same prompts, else built from the state. */
  queueBody(): unknown {
    const running: string[] = [];
    const pending: string[] = [];
    for (const { recordedId } of this.submissions) {
      if (this.deleted.has(recordedId) || this.isFinished(recordedId)) continue;
      (this.isStarted(recordedId) ? running : pending).push(recordedId);
    }
    const matching = this.recordedQueues.filter((e) => {
      const [recordedRunning, recordedPending] = queueIds(e.response.json);
      return sameIds(recordedRunning, running) && sameIds(recordedPending, pending);
    });
    const recorded = matching.filter((e) => this.playback.passed(e.requestIndex)).at(-1) ?? matching[0];
    if (recorded) return recorded.response.json;
    return { queue_running: running.map((id) => this.queueEntry(id)), queue_pending: pending.map((id) => this.queueEntry(id)) };
  }

  private queueEntry(recordedId: string): unknown[] {
    const submission = this.submissions.find((s) => s.recordedId === recordedId);
    const body = submission?.body ?? {};
    const extraData = { ...(isRecord(body.extra_data) ? body.extra_data : {}), ...(typeof body.client_id === 'string' ? { client_id: body.client_id } : {}) };
    const prompt = this.prompts.get(recordedId);
    return [prompt?.number ?? 0, recordedId, body.prompt ?? {}, extraData, prompt?.outputsToExecute ?? []];
  }

  private isStarted(recordedId: string): boolean {
    const start = this.prompts.get(recordedId)?.startIndex;
    return start !== undefined && this.playback.passed(start);
  }

  private isFinished(recordedId: string): boolean {
    const ready = this.prompts.get(recordedId)?.historyIndex;
    return ready !== undefined && this.playback.passed(ready);
  }

  private recordedOutputsToExecute(recordedId: string): unknown {
    for (const queue of this.recordedQueues) {
      const body = queue.response.json;
      if (!isRecord(body)) continue;
      for (const list of [body.queue_running, body.queue_pending]) {
        const entry = Array.isArray(list) ? list.find((item) => Array.isArray(item) && item[1] === recordedId) : undefined;
        if (Array.isArray(entry)) return entry[4];
      }
    }
    return [];
  }
}

/**
 * ComfyUI's HTTP routes as the recording answered them. Hard actions (POST /prompt, /interrupt,
 * /queue, /upload/image) release the playback and are answered once the frames recorded before
 * their response have been played; reads are answered from the recording or the derived state.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdMap } from './id-map.ts';
import type { Playback } from './playback.ts';
import { routeOf } from './playback.ts';
import type { PromptLedger } from './prompts.ts';
import type { Exchange, RecordedResponse, Recording } from './recording.ts';
import { parseRequestBody } from './request-body.ts';

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
  contentDisposition?: string;
}

export interface RouteContext {
  recording: Recording;
  playback: Playback;
  ledger: PromptLedger;
  ids: IdMap;
  requests: SeenRequest[];
  unmatched: SeenRequest[];
  served: Map<string, Buffer>;
}

const EMPTY_OK: Answer = { status: 200, contentType: 'application/octet-stream', body: Buffer.alloc(0) };
const NOT_FOUND: Answer = { status: 404, contentType: 'text/plain; charset=utf-8', body: Buffer.from('404: Not Found') };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonAnswer(json: unknown, ids: IdMap, status = 200): Answer {
  return { status, contentType: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(ids.json(json))) };
}

function recordedAnswer(response: RecordedResponse, ids: IdMap): Answer {
  if (response.json !== undefined) return { ...jsonAnswer(response.json, ids, response.status), contentType: response.contentType };
  return { status: response.status, contentType: response.contentType, body: response.bytes ?? Buffer.alloc(0), contentDisposition: response.contentDisposition };
}

/** Query parameters that matter: empty values are the same as absent ones. */
function meaningful(query: Record<string, string>): string {
  return JSON.stringify(
    Object.entries(query)
      .filter(([, value]) => value !== '')
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

function viewKey(query: Record<string, string>): string {
  return JSON.stringify([query.filename ?? '', query.subfolder ?? '', query.type || 'output']);
}

export class ReplayRoutes {
  private readonly context: RouteContext;
  private promptPosts = 0;

  constructor(context: RouteContext) {
    this.context = context;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replay');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen: SeenRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) };
    const body = parseRequestBody(Buffer.concat(chunks), req.headers['content-type']);
    if (body !== undefined) seen.body = body;
    this.context.requests.push(seen);

    const answer = (await this.answer(seen)) ?? this.unmatched(seen);
    res.writeHead(answer.status, {
      'content-type': answer.contentType,
      'content-length': answer.body.length,
      ...(answer.contentDisposition ? { 'content-disposition': answer.contentDisposition } : {}),
    });
    res.end(answer.body);
  }

  private unmatched(seen: SeenRequest): Answer {
    this.context.unmatched.push(seen);
    return NOT_FOUND;
  }

  private async answer(seen: SeenRequest): Promise<Answer | undefined> {
    const route = routeOf(seen.path);
    if (seen.method === 'POST') {
      if (route === '/prompt') return this.postPrompt(seen);
      if (route === '/queue') return this.postQueue(seen);
      if (route === '/interrupt') return this.afterHardAction(seen, () => EMPTY_OK);
      if (route === '/upload/image') return this.afterHardAction(seen, (exchange) => (exchange ? recordedAnswer(exchange.response, this.context.ids) : undefined));
      return undefined;
    }
    if (seen.method !== 'GET') return undefined;
    const { ids, ledger } = this.context;
    if (route.startsWith('/history/')) return jsonAnswer(ledger.historyBody(ids.recorded(decodeURIComponent(route.slice('/history/'.length)))), ids);
    if (route === '/queue') return jsonAnswer(ledger.queueBody(), ids);
    if (route === '/view') return this.view(seen);
    return this.recordedGet(seen);
  }

  /** Releases the recorded action and answers once the frames recorded before its response are out. */
  private async afterHardAction(seen: SeenRequest, answer: (exchange: Exchange | undefined) => Answer | undefined): Promise<Answer | undefined> {
    const { playback, recording } = this.context;
    const index = playback.posted(seen.path);
    const exchange = index === undefined ? undefined : recording.exchanges.find((e) => e.requestIndex === index);
    if (exchange) await playback.reach(exchange.responseIndex);
    return answer(exchange);
  }

  private postPrompt(seen: SeenRequest): Promise<Answer | undefined> {
    const { ids, ledger } = this.context;
    const exchange = ledger.posts[this.promptPosts];
    this.promptPosts += 1;
    const body = isRecord(seen.body) ? seen.body : {};
    // Map before the playback is released: frames of this prompt may go out right away.
    const recordedClient = isRecord(exchange?.request.json) ? exchange.request.json.client_id : undefined;
    if (typeof recordedClient === 'string' && typeof body.client_id === 'string') ids.set(recordedClient, body.client_id);
    const accepted = exchange?.response.json;
    if (exchange?.response.status === 200 && isRecord(accepted) && typeof accepted.prompt_id === 'string') {
      if (typeof body.prompt_id === 'string') ids.set(accepted.prompt_id, body.prompt_id);
      ledger.submitted({ recordedId: accepted.prompt_id, body });
    }
    return this.afterHardAction(seen, () => (exchange ? recordedAnswer(exchange.response, ids) : undefined));
  }

  private postQueue(seen: SeenRequest): Promise<Answer | undefined> {
    const { ids, ledger } = this.context;
    const body = isRecord(seen.body) ? seen.body : {};
    if (Array.isArray(body.delete)) ledger.deletePending(body.delete.map((id) => ids.recorded(String(id))));
    if (body.clear === true) ledger.deletePending('all');
    return this.afterHardAction(seen, () => EMPTY_OK);
  }

  private view(seen: SeenRequest): Answer | undefined {
    const key = viewKey(seen.query);
    const exchange = this.context.recording.exchanges.find(
      (e) => e.request.method === 'GET' && routeOf(e.request.path) === '/view' && viewKey(e.request.query) === key,
    );
    if (!exchange) return undefined;
    const answer = recordedAnswer(exchange.response, this.context.ids);
    if (answer.status === 200) {
      const { filename = '', subfolder = '' } = seen.query;
      this.context.served.set(subfolder ? `${subfolder}/${filename}` : filename, answer.body);
    }
    return answer;
  }

  /** Any other read: the recorded answer to the same route and query (the latest one played so far). */
  private recordedGet(seen: SeenRequest): Answer | undefined {
    const { recording, playback, ids } = this.context;
    const query = meaningful(seen.query);
    const candidates = recording.exchanges.filter(
      (e) => e.request.method === 'GET' && routeOf(e.request.path) === routeOf(seen.path) && meaningful(e.request.query) === query,
    );
    const samePath = candidates.filter((e) => e.request.path === seen.path);
    const pool = samePath.length > 0 ? samePath : candidates;
    const exchange = pool.filter((e) => playback.passed(e.responseIndex)).at(-1) ?? pool[0];
    return exchange ? recordedAnswer(exchange.response, ids) : undefined;
  }
}

/**
 * Loads one recorded scenario (test/fixtures/traffic/<scenario>.jsonl) into plain, typed events:
 * binary frames are complete where a `.bin` file holds the whole frame, HTTP exchanges are paired,
 * and the omitted /object_info body is read from object_info.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';

export const TRAFFIC_DIR = fileURLToPath(new URL('../../fixtures/traffic/', import.meta.url));

const query = v.optional(v.record(v.string(), v.string()), {});

const lineSchema = v.variant('kind', [
  v.looseObject({ kind: v.literal('meta'), seq: v.number(), t_ms: v.number() }),
  v.looseObject({ kind: v.picklist(['note', 'recorder_error', 'ws_open', 'ws_closed']), seq: v.number(), t_ms: v.number() }),
  v.looseObject({ kind: v.literal('ws_connect'), seq: v.number(), t_ms: v.number(), socket: v.string(), path: v.string(), client_id: v.string() }),
  v.looseObject({ kind: v.literal('ws_send'), seq: v.number(), t_ms: v.number(), socket: v.string(), json: v.unknown() }),
  v.looseObject({ kind: v.literal('ws_client_close'), seq: v.number(), t_ms: v.number(), socket: v.string() }),
  v.looseObject({
    kind: v.literal('ws_recv'),
    seq: v.number(),
    t_ms: v.number(),
    socket: v.string(),
    json: v.optional(v.unknown()),
    binary: v.optional(v.boolean()),
    base64: v.optional(v.string()),
    truncated: v.optional(v.boolean()),
    length: v.optional(v.number()),
    sha256: v.optional(v.string()),
    event_type: v.optional(v.number()),
    header_hex: v.optional(v.string()),
    decoded: v.optional(v.record(v.string(), v.unknown())),
  }),
  v.looseObject({
    kind: v.literal('http_request'),
    seq: v.number(),
    t_ms: v.number(),
    id: v.number(),
    method: v.string(),
    path: v.string(),
    query,
    json: v.optional(v.unknown()),
    raw_body: v.optional(v.string()),
    multipart: v.optional(v.unknown()),
  }),
  v.looseObject({
    kind: v.literal('http_response'),
    seq: v.number(),
    t_ms: v.number(),
    id: v.number(),
    status: v.number(),
    content_type: v.string(),
    content_disposition: v.optional(v.string()),
    json: v.optional(v.unknown()),
    json_omitted: v.optional(v.boolean()),
    text: v.optional(v.string()),
    base64: v.optional(v.string()),
    truncated: v.optional(v.boolean()),
  }),
]);

export type RecordedLine = v.InferOutput<typeof lineSchema>;

export interface RecordedBinary {
  /** The frame as it will be sent: complete when a .bin file holds it, else the recorded (maybe cut) bytes. */
  bytes: Buffer;
  /** True when `bytes` is shorter than the frame the server sent. */
  truncated: boolean;
  /** Length and sha256 of the whole frame as the server sent it. */
  length: number;
  sha256: string;
  eventType: number;
  headerHex: string;
  decoded: Record<string, unknown>;
  /** The .bin file the complete bytes came from, if any. */
  fullFrameFile: string | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  json: unknown;
  rawBody: string | undefined;
  multipart: unknown;
}

export interface RecordedResponse {
  status: number;
  contentType: string;
  contentDisposition: string | undefined;
  /** Parsed JSON body (ids are mapped before it is sent); undefined for other bodies. */
  json: unknown;
  /** Non-JSON body bytes (an empty text means an empty body). */
  bytes: Buffer | undefined;
  truncated: boolean;
}

interface Timed {
  /** Position in the recording (line index, equal to `seq`). */
  index: number;
  /** Milliseconds since the scenario started. */
  t: number;
}

export type RecordedEvent = Timed &
  (
    | { kind: 'connect'; socket: string; clientId: string }
    | { kind: 'client-close'; socket: string }
    | { kind: 'text'; socket: string; json: unknown }
    | { kind: 'binary'; socket: string; frame: RecordedBinary }
    | { kind: 'client-frame'; socket: string; json: unknown }
    | { kind: 'request'; exchangeId: number; request: RecordedRequest }
    | { kind: 'response'; exchangeId: number; response: RecordedResponse }
    | { kind: 'other'; what: string }
  );

export interface Exchange {
  id: number;
  requestIndex: number;
  responseIndex: number;
  request: RecordedRequest;
  response: RecordedResponse;
}

export interface Recording {
  scenario: string;
  events: RecordedEvent[];
  /** HTTP request/response pairs in request order. */
  exchanges: Exchange[];
}

function fullFrameFile(scenario: string, seq: number): string | undefined {
  const prefix = `${scenario}.frame-${seq}.event`;
  const name = readdirSync(TRAFFIC_DIR).find((file) => file.startsWith(prefix) && file.endsWith('.bin'));
  return name === undefined ? undefined : join(TRAFFIC_DIR, name);
}

function toEvent(scenario: string, line: RecordedLine, index: number): RecordedEvent {
  const timed = { index, t: line.t_ms };
  switch (line.kind) {
    case 'ws_connect':
      return { ...timed, kind: 'connect', socket: line.socket, clientId: line.client_id };
    case 'ws_client_close':
      return { ...timed, kind: 'client-close', socket: line.socket };
    case 'ws_send':
      return { ...timed, kind: 'client-frame', socket: line.socket, json: line.json };
    case 'ws_recv': {
      if (!line.binary) return { ...timed, kind: 'text', socket: line.socket, json: line.json };
      const file = line.truncated ? fullFrameFile(scenario, line.seq) : undefined;
      const bytes = file ? readFileSync(file) : Buffer.from(line.base64 ?? '', 'base64');
      return {
        ...timed,
        kind: 'binary',
        socket: line.socket,
        frame: {
          bytes,
          truncated: bytes.length < (line.length ?? bytes.length),
          length: line.length ?? bytes.length,
          sha256: line.sha256 ?? '',
          eventType: line.event_type ?? bytes.readUInt32BE(0),
          headerHex: line.header_hex ?? '',
          decoded: line.decoded ?? {},
          fullFrameFile: file,
        },
      };
    }
    case 'http_request':
      return {
        ...timed,
        kind: 'request',
        exchangeId: line.id,
        request: { method: line.method, path: line.path, query: line.query, json: line.json, rawBody: line.raw_body, multipart: line.multipart },
      };
    case 'http_response': {
      let json = line.json;
      if (line.json_omitted) json = JSON.parse(readFileSync(join(TRAFFIC_DIR, 'object_info.json'), 'utf8'));
      const bytes = line.base64 !== undefined ? Buffer.from(line.base64, 'base64') : line.text !== undefined ? Buffer.from(line.text) : undefined;
      return {
        ...timed,
        kind: 'response',
        exchangeId: line.id,
        response: {
          status: line.status,
          contentType: line.content_type,
          contentDisposition: line.content_disposition,
          json,
          bytes,
          truncated: line.truncated ?? false,
        },
      };
    }
    default:
      return { ...timed, kind: 'other', what: line.kind };
  }
}

export function scenarioNames(): string[] {
  return readdirSync(TRAFFIC_DIR)
    .filter((file) => file.endsWith('.jsonl'))
    .map((file) => file.slice(0, -'.jsonl'.length))
    .sort();
}

export function loadRecording(scenario: string): Recording {
  const file = join(TRAFFIC_DIR, `${scenario}.jsonl`);
  if (!existsSync(file)) throw new Error(`no recorded scenario "${scenario}" (${file})`);
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((text, index) => {
      const parsed = v.safeParse(lineSchema, JSON.parse(text));
      if (!parsed.success) throw new Error(`${scenario}.jsonl line ${index + 1}: ${parsed.issues[0].message}`);
      if (parsed.output.seq !== index) throw new Error(`${scenario}.jsonl line ${index + 1}: seq ${parsed.output.seq} out of order`);
      return parsed.output;
    });
  const events = lines.map((line, index) => toEvent(scenario, line, index));
  const exchanges: Exchange[] = [];
  for (const event of events) {
    if (event.kind !== 'request') continue;
    const response = events.find((other) => other.kind === 'response' && other.exchangeId === event.exchangeId);
    if (response?.kind !== 'response') throw new Error(`${scenario}.jsonl: request #${event.exchangeId} has no response`);
    exchanges.push({ id: event.exchangeId, requestIndex: event.index, responseIndex: response.index, request: event.request, response: response.response });
  }
  return { scenario, events, exchanges };
}

export function loadWorkflow(scenario: string): unknown {
  return JSON.parse(readFileSync(join(TRAFFIC_DIR, `${scenario}.workflow.json`), 'utf8'));
}

/** Shared test tools: recorded traffic, a recording WebSocket client, plain HTTP requests. */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { WAIT_LIMIT_MS } from '../support/wait.ts';

const TRAFFIC = new URL('../fixtures/traffic/', import.meta.url);

export interface RecordedLine {
  seq: number;
  kind: string;
  // Each kind has its own fields (see test/fixtures/traffic/README.md).
  [field: string]: any;
}

export function readRecording(scenario: string): RecordedLine[] {
  return readFileSync(new URL(`${scenario}.jsonl`, TRAFFIC), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RecordedLine);
}

export function readWorkflow(scenario: string): any {
  return JSON.parse(readFileSync(new URL(`${scenario}.workflow.json`, TRAFFIC), 'utf8'));
}

export type WireFrame = { text: true; json: any } | { text: false; bytes: Buffer };

/** A WebSocket that records every frame and lets a test wait for the ones it needs. */
export class TestSocket {
  readonly frames: WireFrame[] = [];
  readonly ws: WebSocket;
  private listeners = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? { text: false, bytes: Buffer.from(data) } : { text: true, json: JSON.parse(data.toString('utf8')) });
      for (const listener of this.listeners) listener();
    });
  }

  /** `target` is the server URL plus a /ws path, or a server URL and a client id. */
  static async open(serverUrl: string, clientId?: string, options: { path?: string; featureFlags?: boolean } = {}): Promise<TestSocket> {
    const path = options.path ?? `/ws${clientId === undefined ? '' : `?clientId=${encodeURIComponent(clientId)}`}`;
    const ws = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}${path}`, { perMessageDeflate: false });
    const socket = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (options.featureFlags) socket.send({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    return socket;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  get texts(): any[] {
    return this.frames.filter((frame): frame is { text: true; json: any } => frame.text).map((frame) => frame.json);
  }

  /** Resolves with the first frame (from index `from`) matching `predicate`. */
  waitFor(predicate: (frame: WireFrame) => boolean, timeoutMs = WAIT_LIMIT_MS, from = 0): Promise<WireFrame> {
    return this.waitUntil(() => this.frames.slice(from).find(predicate), timeoutMs, 'a matching frame');
  }

  waitForText(predicate: (message: any) => boolean, timeoutMs = WAIT_LIMIT_MS): Promise<any> {
    return this.waitFor((frame) => frame.text && predicate(frame.json), timeoutMs).then((frame) => (frame as { json: any }).json);
  }

  waitForCount(count: number, timeoutMs = WAIT_LIMIT_MS): Promise<void> {
    return this.waitUntil(() => (this.frames.length >= count ? true : undefined), timeoutMs, `${count} frames`).then(() => undefined);
  }

  /** The `executing {node: null, prompt_id}` that ends a prompt submitted with this client id. */
  waitForCompletion(promptId: string, timeoutMs = WAIT_LIMIT_MS): Promise<any> {
    return this.waitForText((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId, timeoutMs);
  }

  waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.frames.length} frames: ${describeFrames(this.frames)}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

export function describeFrames(frames: WireFrame[]): string {
  return frames.map((frame) => (frame.text ? String(frame.json.type) : `binary:${frame.bytes.readUInt32BE(0)}`)).join(', ');
}

export interface HttpResult {
  status: number;
  contentType: string;
  headers: Headers;
  body: Buffer;
  text: string;
  json: any;
}

export async function http(baseUrl: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  const response = await fetch(`${baseUrl}${path}`, { method, body, headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', headers: response.headers, body: bytes, text, json };
}

export function postJson(baseUrl: string, path: string, value: unknown): Promise<HttpResult> {
  return http(baseUrl, 'POST', path, JSON.stringify(value));
}

export function multipartBody(fields: Record<string, string>, files: { field: string; filename: string; contentType: string; data: Buffer }[]): { body: Buffer; contentType: string } {
  const boundary = '----pyrosSimTestBoundary7d93';
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

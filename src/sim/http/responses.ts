/** Responses shaped like aiohttp's (content types, default error bodies). */
import type { IncomingMessage, ServerResponse } from 'node:http';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/** `body` may be pre-serialised JSON text. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const bytes = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': bytes.length });
  res.end(bytes);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = TEXT_TYPE): void {
  const bytes = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** aiohttp's `web.Response(status=…)`: no body, application/octet-stream. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Type': 'application/octet-stream', 'Content-Length': 0 });
  res.end();
}

/** What aiohttp answers when a handler raises (e.g. a body that is not JSON). */
export function sendInternalError(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
}

export function sendNotFound(res: ServerResponse): void {
  sendText(res, 404, '404: Not Found');
}

export function sendMethodNotAllowed(res: ServerResponse, allowed: string[]): void {
  const bytes = Buffer.from('405: Method Not Allowed', 'utf8');
  res.writeHead(405, { 'Content-Type': TEXT_TYPE, 'Content-Length': bytes.length, Allow: allowed.join(',') });
  res.end(bytes);
}

export class BodyTooLargeError extends Error {}

/** Reads the whole request body, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLargeError(`body of ${declared} bytes exceeds ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** aiohttp's answer to a body over client_max_size. */
export function sendTooLarge(res: ServerResponse, limit: number, actual: number | undefined): void {
  const detail = actual === undefined ? '' : `: ${actual}`;
  sendText(res, 413, `Maximum request body size ${limit} exceeded, actual body size${detail}`);
}

/**
 * `pyros gallery`: a small HTTP server on 127.0.0.1 for one folder of outputs.
 *
 *   GET /                the page (src/gallery/page.ts)
 *   GET /api/outputs     { dir, items } newest first (`?q=` filters by prompt text)
 *   GET /api/events      Server-Sent Events: `outputs` whenever the folder's listing changes
 *   GET /files/NAME      a file inside the folder, nothing outside it
 *
 * Changes are noticed with fs.watch (debounced), or by polling where watching is not possible.
 * Requests whose Host is not this loopback address are refused (a web page elsewhere cannot
 * read the gallery through DNS rebinding).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contentTypeOf } from '../content-types.ts';
import { CliError } from '../cli/errors/cli-error.ts';
import { galleryPage } from './page.ts';
import { resolveInside } from './paths.ts';
import { scanOutputs, searchItems, SidecarCache, type GalleryItem } from './scan.ts';

export interface GalleryOptions {
  dir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Wait this long after a change before listing again (default 150 ms). */
  debounceMs?: number;
  /** Poll instead of watching, every this many ms (default: watch; poll only when watching fails). */
  pollMs?: number;
}

export interface Gallery {
  url: string;
  port: number;
  dir: string;
  /** How changes are noticed: 'watch' or 'poll'. */
  readonly mode: 'watch' | 'poll';
  close(): Promise<void>;
}


const DEFAULT_POLL_MS = 2000;

export async function startGallery(options: GalleryOptions): Promise<Gallery> {
  let root: string;
  try {
    root = await realpath(options.dir);
  } catch {
    throw new CliError('usage', `No folder ${options.dir}: nothing has been saved there yet.`, { hint: 'Run `pyros run` (or `pyros`) first, or name the folder: pyros gallery DIR.' });
  }
  const host = options.host ?? '127.0.0.1';
  const nonce = randomBytes(16).toString('base64');
  const cache = new SidecarCache();
  const clients = new Set<ServerResponse>();
  let items: GalleryItem[] = [];
  let signature = '';
  let version = 0;
  let port = 0;

  const refresh = async (): Promise<void> => {
    let next: GalleryItem[];
    try {
      next = await scanOutputs(root, cache);
    } catch {
      next = [];
    }
    const nextSignature = JSON.stringify(next);
    if (nextSignature === signature) return;
    signature = nextSignature;
    items = next;
    version += 1;
    for (const client of clients) client.write(`event: outputs\ndata: ${JSON.stringify({ version, count: items.length })}\n\n`);
  };
  await refresh();

  // Watch the folder (debounced); poll when watching is not possible.
  let watcher: FSWatcher | undefined;
  let poller: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let scanning: Promise<void> = Promise.resolve();
  const schedule = (): void => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      scanning = scanning.then(refresh);
    }, options.debounceMs ?? 150);
  };
  const poll = (ms: number): void => {
    watcher?.close();
    watcher = undefined;
    poller ??= setInterval(() => {
      scanning = scanning.then(refresh);
    }, ms);
  };
  let mode: 'watch' | 'poll' = 'watch';
  if (options.pollMs !== undefined) {
    mode = 'poll';
    poll(options.pollMs);
  } else {
    try {
      watcher = watch(root, { persistent: false }, schedule);
      watcher.on('error', () => {
        mode = 'poll';
        poll(DEFAULT_POLL_MS);
      });
    } catch {
      mode = 'poll';
      poll(DEFAULT_POLL_MS);
    }
  }
  const keepAlive = setInterval(() => {
    for (const client of clients) client.write(': keep-alive\n\n');
  }, 25_000);
  keepAlive.unref();

  const allowedHosts = (): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`]);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (!allowedHosts().has((request.headers.host ?? '').toLowerCase())) return send(response, 403, 'text/plain; charset=utf-8', 'Forbidden host\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
    }
    const raw = request.url ?? '/';
    const queryAt = raw.indexOf('?');
    const path = queryAt >= 0 ? raw.slice(0, queryAt) : raw;
    const query = new URLSearchParams(queryAt >= 0 ? raw.slice(queryAt + 1) : '');

    if (path === '/' || path === '/index.html') {
      response.setHeader('Content-Security-Policy', `default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'`);
      return send(response, 200, 'text/html; charset=utf-8', galleryPage({ dir: options.dir, nonce }), request.method === 'HEAD');
    }
    if (path === '/api/outputs') {
      const q = query.get('q') ?? '';
      return send(response, 200, 'application/json; charset=utf-8', JSON.stringify({ dir: options.dir, version, items: q ? searchItems(items, q) : items }), request.method === 'HEAD');
    }
    if (path === '/api/events') {
      response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
      response.write(`retry: 2000\nevent: outputs\ndata: ${JSON.stringify({ version, count: items.length })}\n\n`);
      clients.add(response);
      request.on('close', () => clients.delete(response));
      return;
    }
    if (path.startsWith('/files/')) return serveFile(root, path.slice('/files/'.length), request, response);
    if (path === '/favicon.ico') {
      response.writeHead(204);
      response.end();
      return;
    }
    return send(response, 404, 'text/plain; charset=utf-8', 'Not found\n');
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'Internal error\n');
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new CliError('usage', `Cannot serve the gallery on ${host}:${options.port ?? 0}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}.`, { hint: 'Pick another port with --port, or leave it out to use a free one.' }));
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;

  return {
    url,
    port,
    dir: root,
    get mode() {
      return mode;
    },
    async close() {
      watcher?.close();
      if (poller) clearInterval(poller);
      if (debounce) clearTimeout(debounce);
      clearInterval(keepAlive);
      for (const client of clients) client.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await scanning;
    },
  };
}

function send(response: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
  response.end(headOnly ? undefined : body);
}

async function serveFile(root: string, encoded: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const resolved = await resolveInside(root, encoded);
  if (!resolved.ok) {
    const text = resolved.status === 403 ? 'Forbidden: outside the gallery folder\n' : resolved.status === 400 ? 'Bad request\n' : 'Not found\n';
    return send(response, resolved.status, 'text/plain; charset=utf-8', text);
  }
  const lastModified = new Date(Math.floor(resolved.mtimeMs / 1000) * 1000).toUTCString();
  const headers = {
    'Content-Type': contentTypeOf(resolved.path),
    'Content-Length': resolved.size,
    'Last-Modified': lastModified,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    // A file is shown, never run as a page of this origin (an .svg or .html output).
    'Content-Security-Policy': "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
  };
  if (request.headers['if-modified-since'] === lastModified) {
    response.writeHead(304, { 'Last-Modified': lastModified });
    response.end();
    return;
  }
  response.writeHead(200, headers);
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(resolved.path);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/**
 * The HTTP server: keep-alive friendly node:http, routes registered once and reachable with or
 * without the /api prefix, WebSocket upgrades of /ws handed to the socket hub, and the
 * `onRequest` hook consulted before any route.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SimContext } from './context.ts';
import { BodyTooLargeError, sendInternalError, sendTooLarge } from './http/responses.ts';
import { Router } from './http/router.ts';
import { historyRoutes } from './routes/history.ts';
import { infoRoutes } from './routes/info.ts';
import { promptRoutes } from './routes/prompt.ts';
import { queueRoutes } from './routes/queue.ts';
import { uploadRoutes } from './routes/upload.ts';
import { viewRoutes } from './routes/view.ts';
import { MAX_BODY_BYTES } from './context.ts';

/** aiohttp keeps idle connections 75 s; clients with keep-alive agents rely on reuse. */
const KEEP_ALIVE_MS = 75_000;

export function buildRouter(context: SimContext): Router {
  const router = new Router();
  promptRoutes(router, context);
  queueRoutes(router, context);
  historyRoutes(router, context);
  viewRoutes(router, context);
  uploadRoutes(router, context);
  infoRoutes(router, context);
  return router;
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const mark = url.indexOf('?');
  const pathname = mark >= 0 ? url.slice(0, mark) : url;
  return { path: Router.routePath(pathname), query: new URLSearchParams(mark >= 0 ? url.slice(mark + 1) : '') };
}

export function createHttpServer(context: SimContext): Server {
  const router = buildRouter(context);
  const { hooks, hub, log } = context;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (context.frozen) return; // a hung server: the request waits forever
    const { path, query } = splitUrl(req.url ?? '/');
    try {
      if (hooks.onRequest && (await hooks.onRequest({ method: req.method ?? 'GET', path, query, req, res }))) return;
      await router.dispatch(req, res, path, query);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        const declared = Number(req.headers['content-length']);
        sendTooLarge(res, MAX_BODY_BYTES, Number.isFinite(declared) ? declared : undefined);
        return;
      }
      log(`${req.method} ${path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendInternalError(res);
    }
  };

  const server = createServer({ noDelay: true, keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
    void handle(req, res);
  });
  server.headersTimeout = KEEP_ALIVE_MS + 5_000;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (context.frozen) {
      // Left hanging; the HTTP server no longer tracks an upgraded socket, so close() must end it.
      context.hanging.add(socket);
      socket.once('close', () => context.hanging.delete(socket));
      return;
    }
    const { path, query } = splitUrl(req.url ?? '/');
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    hub.upgrade(req, socket, head, query);
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  return server;
}

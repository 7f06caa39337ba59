/** A tiny real HTTP server that answers GET /view from a map of names to bodies (or misbehaves on purpose). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  url: string;
  close(): Promise<void>;
}

export type ViewBehaviour = Buffer | { truncateTo: number; body: Buffer } | { status: number };

export async function startFileServer(files: Record<string, ViewBehaviour>): Promise<FileServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const behaviour = url.pathname === '/view' ? files[url.searchParams.get('filename') ?? ''] : undefined;
    if (behaviour === undefined) {
      res.writeHead(404).end();
    } else if (Buffer.isBuffer(behaviour)) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': behaviour.length }).end(behaviour);
    } else if ('status' in behaviour) {
      res.writeHead(behaviour.status).end();
    } else {
      // Promise the whole body, send part of it, then cut the connection.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': behaviour.body.length });
      res.write(behaviour.body.subarray(0, behaviour.truncateTo), () => res.socket?.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

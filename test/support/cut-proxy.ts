/**
 * An HTTP proxy in front of a ComfyUI server (the simulator or the real one) that loses the answer
 * to POST /prompt: every other request and the WebSocket pass through untouched.
 *
 *   cut    forwards the request, waits for the server's answer, then cuts the client's connection
 *          (the server has queued the prompt; the client never hears it)
 *   drop   reads the request and cuts the connection without forwarding it (the server never has it)
 *   hold   forwards the request and never answers (the client waits, e.g. to be killed there)
 *
 * Only the first `times` POST /prompt requests are treated so (default: all of them).
 * Also runnable by hand: node --import tsx test/support/cut-proxy.ts --target PORT [--port PORT] [--mode cut] [--times 1]
 */
import http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export type CutMode = 'cut' | 'drop' | 'hold';

export interface CutProxy {
  url: string;
  port: number;
  /** POST /prompt requests treated so far (cut, dropped or held). */
  readonly treated: number;
  mode: CutMode;
  /** How many more POST /prompt requests to treat. */
  left: number;
  close(): Promise<void>;
}

function isPromptPost(req: http.IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  return req.method === 'POST' && (path === '/prompt' || path === '/api/prompt');
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends the request to the server and resolves with its whole answer. */
function forward(target: { host: string; port: number }, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: `${target.host}:${target.port}` }, agent: false }, (res) => {
      readBody(res).then((data) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }), reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

export async function startCutProxy(target: { port: number; host?: string }, options: { mode?: CutMode; times?: number; port?: number } = {}): Promise<CutProxy> {
  const to = { host: target.host ?? '127.0.0.1', port: target.port };
  const sockets = new Set<net.Socket>();
  const state = { treated: 0, mode: options.mode ?? 'cut', left: options.times ?? Number.POSITIVE_INFINITY };

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      if (isPromptPost(req) && state.left > 0) {
        state.left -= 1;
        state.treated += 1;
        if (state.mode === 'drop') {
          req.socket.destroy();
          return;
        }
        await forward(to, req, body).catch(() => undefined);
        if (state.mode === 'cut') req.socket.destroy();
        return; // hold: never answered
      }
      try {
        const answer = await forward(to, req, body);
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        headers['content-length'] = String(answer.body.length);
        res.writeHead(answer.status, headers).end(answer.body);
      } catch {
        req.socket.destroy();
      }
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // WebSocket upgrades (and anything else upgraded) go through byte for byte.
  server.on('upgrade', (req, client: net.Socket, head: Buffer) => {
    const upstream = net.connect(to.port, to.host, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    sockets.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get treated() {
      return state.treated;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode: CutMode) {
      state.mode = mode;
    },
    get left() {
      return state.left;
    },
    set left(n: number) {
      state.left = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): string | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  const targetPort = Number(arg('target'));
  if (!targetPort) {
    process.stderr.write('usage: cut-proxy.ts --target PORT [--port PORT] [--mode cut|drop|hold] [--times N]\n');
    process.exit(2);
  }
  const proxy = await startCutProxy({ port: targetPort }, { mode: (arg('mode') as CutMode | undefined) ?? 'cut', times: arg('times') ? Number(arg('times')) : undefined, port: arg('port') ? Number(arg('port')) : 0 });
  process.stderr.write(`cut-proxy ${proxy.url} → 127.0.0.1:${targetPort} (${proxy.mode} the first ${Number.isFinite(proxy.left) ? proxy.left : 'every'} POST /prompt answer${proxy.left === 1 ? '' : 's'})\n`);
  setInterval(() => undefined, 1 << 30);
}

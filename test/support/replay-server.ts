/**
 * A test server that replays traffic recorded from a real ComfyUI server (test/fixtures/traffic)
 * frame for frame, against a live client. The recorded ids are mapped to the ones the client
 * chose, recorded frames wait for the client actions they followed, and HTTP answers come from
 * the recording or from the state the playback has reached. The rules are in ./replay/*.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ReplayRoutes, type SeenRequest } from './replay/http-routes.ts';
import { IdMap } from './replay/id-map.ts';
import { Playback, routeOf } from './replay/playback.ts';
import { PromptLedger } from './replay/prompts.ts';
import { loadRecording, type Recording } from './replay/recording.ts';

export type { SeenRequest } from './replay/http-routes.ts';

export interface ReplayServer {
  /** http://127.0.0.1:<ephemeral port> */
  url: string;
  close(): Promise<void>;
  /** Every HTTP request the client sent, in arrival order. */
  requests: SeenRequest[];
  /** The requests nothing in the recording answered (they got a 404). */
  unmatched: SeenRequest[];
  /** /view bodies served, keyed by `subfolder/filename` (just `filename` without a subfolder). */
  served: Map<string, Buffer>;
  /** The WebSocket URLs (path and query) the client opened, in order. */
  connections: string[];
  /** The recorded socket being played. */
  socket: string;
}

export interface ReplayOptions {
  /** Recorded socket to play (default `main`, else the socket of the client that submitted). */
  socket?: string;
  /** 0 = no delays (default), 1 = real time. */
  speed?: number;
}

function connectSockets(recording: Recording): { socket: string; clientId: string }[] {
  return recording.events.flatMap((event) => (event.kind === 'connect' ? [{ socket: event.socket, clientId: event.clientId }] : []));
}

/** `main` when recorded; otherwise the socket of the client that submitted, else the first one. */
function defaultSocket(recording: Recording): string {
  const sockets = connectSockets(recording);
  if (sockets.length === 0 || sockets.some((s) => s.socket === 'main')) return 'main';
  const firstPost = recording.exchanges.find((e) => e.request.method === 'POST' && routeOf(e.request.path) === '/prompt');
  const json = firstPost?.request.json;
  const submitter = typeof json === 'object' && json !== null && 'client_id' in json ? json.client_id : undefined;
  return (sockets.find((s) => s.clientId === submitter) ?? sockets[0])?.socket ?? 'main';
}

export async function startReplay(scenario: string, options: ReplayOptions = {}): Promise<ReplayServer> {
  const recording = loadRecording(scenario);
  const socketName = options.socket ?? defaultSocket(recording);
  if (options.socket !== undefined && !connectSockets(recording).some((s) => s.socket === options.socket)) {
    throw new Error(`${scenario} has no recorded socket "${options.socket}"`);
  }
  const ids = new IdMap();
  let current: WebSocket | undefined;
  const send = (data: string | Buffer): void => {
    if (current?.readyState === WebSocket.OPEN) current.send(data);
  };
  const playback = new Playback(recording, {
    socket: socketName,
    speed: Math.max(0, options.speed ?? 0),
    output: {
      sendText: (json) => send(JSON.stringify(ids.json(json))),
      sendBinary: (frame) => send(ids.binaryFrame(frame)),
      drop: () => {
        current?.terminate();
        current = undefined;
      },
    },
  });
  const playedClientIds = connectSockets(recording)
    .filter((s) => playback.chain.has(s.socket))
    .map((s) => s.clientId);

  const replay: ReplayServer = {
    url: '',
    close: async () => undefined,
    requests: [],
    unmatched: [],
    served: new Map(),
    connections: [],
    socket: socketName,
  };
  const routes = new ReplayRoutes({
    recording,
    playback,
    ledger: new PromptLedger(recording, playback),
    ids,
    requests: replay.requests,
    unmatched: replay.unmatched,
    served: replay.served,
  });

  const server = http.createServer((req, res) => {
    routes.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://replay');
    if (routeOf(url.pathname) !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      replay.connections.push(`${url.pathname}${url.search}`);
      const clientId = url.searchParams.get('clientId');
      if (clientId) for (const recorded of playedClientIds) ids.set(recorded, clientId);
      current = ws;
      ws.on('close', () => {
        if (current === ws) current = undefined;
      });
      playback.connected();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  replay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  replay.close = async () => {
    playback.close();
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return replay;
}

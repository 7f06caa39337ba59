/**
 * The WebSocket clients, by clientId, and everything sent to them. Like ComfyUI, one socket per
 * clientId (a reconnect replaces the previous one), the first frame is `status` with the `sid`,
 * and a first text frame `feature_flags` is answered with the server's flags.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { SimHooks } from './hooks.ts';

export const SERVER_FEATURES = { supports_preview_metadata: true, max_upload_size: 104857600 } as const;

interface Client {
  id: string;
  socket: WebSocket;
  flags: Record<string, unknown>;
}

/** Who is being executed right now, for the `executing` frame a reconnecting client gets. */
export interface ActiveNode {
  clientId: string;
  nodeId: string;
}

export class SocketHub {
  private readonly clients = new Map<string, Client>();
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  private readonly hooks: SimHooks;
  private readonly log: (line: string) => void;
  private readonly queueRemaining: () => number;
  activeNode: ActiveNode | undefined;
  /** A hung server sends nothing and reads nothing (so pings go unanswered). */
  private frozen = false;

  constructor(hooks: SimHooks, queueRemaining: () => number, log: (line: string) => void) {
    this.hooks = hooks;
    this.queueRemaining = queueRemaining;
    this.log = log;
  }

  /** Takes over an HTTP upgrade of GET /ws. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams): void {
    const clientId = query.get('clientId') || randomUUID().replaceAll('-', '');
    if (this.hooks.onSocketUpgrade?.({ clientId, req, socket })) return;
    this.server.handleUpgrade(req, socket, head, (ws) => this.accept(ws, clientId, req));
  }

  private accept(socket: WebSocket, clientId: string, req: IncomingMessage): void {
    const client: Client = { id: clientId, socket, flags: {} };
    this.clients.set(clientId, client);
    this.sendTo(client, statusMessage(this.queueRemaining(), clientId), false);
    if (this.activeNode?.clientId === clientId) {
      this.sendTo(client, JSON.stringify({ type: 'executing', data: { node: this.activeNode.nodeId } }), false);
    }
    let first = true;
    socket.on('message', (data, isBinary) => {
      if (!first || isBinary) return;
      first = false;
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        this.log(`websocket ${clientId}: ignored a frame that is not JSON`);
        return;
      }
      const { type, data: flags } = (message ?? {}) as { type?: unknown; data?: unknown };
      if (type !== 'feature_flags') return;
      client.flags = typeof flags === 'object' && flags !== null ? (flags as Record<string, unknown>) : {};
      this.sendTo(client, JSON.stringify({ type: 'feature_flags', data: SERVER_FEATURES }), false);
    });
    socket.on('close', () => {
      if (this.clients.get(clientId) === client) this.clients.delete(clientId);
    });
    socket.on('error', (error) => this.log(`websocket ${clientId}: ${error.message}`));
    this.hooks.onSocketOpen?.({ clientId, socket, req });
  }

  private sendTo(client: Client, data: string | Buffer, binary: boolean): void {
    if (this.frozen) return;
    if (client.socket.readyState !== WebSocket.OPEN) return;
    if (this.hooks.onSocketFrame && this.hooks.onSocketFrame({ clientId: client.id, socket: client.socket, data, binary }) === false) return;
    if (client.socket.readyState !== WebSocket.OPEN) return;
    client.socket.send(data, { binary });
  }

  /** Sends to one client (if connected), or to every socket when `clientId` is undefined. */
  send(data: string | Buffer, clientId: string | undefined, binary = typeof data !== 'string'): void {
    if (clientId === undefined) {
      for (const client of this.clients.values()) this.sendTo(client, data, binary);
      return;
    }
    const client = this.clients.get(clientId);
    if (client) this.sendTo(client, data, binary);
  }

  sendJson(type: string, data: unknown, clientId: string | undefined): void {
    this.send(JSON.stringify({ type, data }), clientId, false);
  }

  broadcastStatus(): void {
    this.send(statusMessage(this.queueRemaining()), undefined, false);
  }

  /** Would a frame for `clientId` (undefined: everyone) reach anybody? */
  hasListener(clientId: string | undefined): boolean {
    return clientId === undefined ? this.clients.size > 0 : this.clients.has(clientId);
  }

  supportsFeature(clientId: string | undefined, feature: string): boolean {
    if (clientId === undefined) return false;
    return Boolean(this.clients.get(clientId)?.flags[feature]);
  }

  freeze(): void {
    this.frozen = true;
    for (const client of this.clients.values()) rawSocket(client.socket)?.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const client of this.clients.values()) rawSocket(client.socket)?.resume();
  }

  closeAll(): void {
    for (const client of this.clients.values()) client.socket.terminate();
    this.clients.clear();
    this.server.close();
  }
}

/** The TCP socket under a ws connection (not part of ws's typed API). */
function rawSocket(socket: WebSocket): Duplex | undefined {
  return (socket as unknown as { _socket?: Duplex })._socket;
}

function statusMessage(queueRemaining: number, sid?: string): string {
  const status = { status: { exec_info: { queue_remaining: queueRemaining } } };
  return JSON.stringify({ type: 'status', data: sid === undefined ? status : { ...status, sid } });
}

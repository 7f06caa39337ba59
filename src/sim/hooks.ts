/**
 * The seam for fault injection. Routes, the socket hub and the executor consult these hooks at
 * the points where a real deployment misbehaves (a dropped socket, a stalled download, a 500,
 * a hostile file name, a node that fails). Every hook is optional and read at call time, so a
 * test can install or replace one on a running server by mutating the object it passed in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { WebSocket } from 'ws';

export interface RequestInfo {
  method: string;
  /** Path without the optional /api prefix, e.g. "/prompt". */
  path: string;
  query: URLSearchParams;
  req: IncomingMessage;
  res: ServerResponse;
}

export interface SocketInfo {
  clientId: string;
  socket: WebSocket;
  /** The upgrade request (its headers carry the client's credentials). */
  req?: IncomingMessage;
}

export interface UpgradeInfo {
  clientId: string;
  req: IncomingMessage;
  /** The raw connection: write an HTTP answer (e.g. 403) and end it to refuse the upgrade. */
  socket: Duplex;
}

export interface FrameInfo extends SocketInfo {
  data: string | Buffer;
  binary: boolean;
}

export interface NodeInfo {
  promptId: string;
  nodeId: string;
  classType: string;
}

export interface ViewFileInfo {
  path: string;
  size: number;
  req: IncomingMessage;
  res: ServerResponse;
}

export interface SimHooks {
  /** Before routing. Return true when the hook answered the request itself (or let it hang). */
  onRequest?(request: RequestInfo): boolean | Promise<boolean>;
  /** Before a WebSocket upgrade of /ws is accepted. Return true when the hook answered it itself (e.g. refused it). */
  onSocketUpgrade?(upgrade: UpgradeInfo): boolean;
  /** A WebSocket was accepted; its first `status` frame is already sent. */
  onSocketOpen?(socket: SocketInfo): void;
  /** Before each frame to a socket; return false to drop it. The hook may also close the socket. */
  onSocketFrame?(frame: FrameInfo): boolean;
  /** Before GET /view streams a file; return a stream to send instead (e.g. one that stalls). */
  onViewFile?(file: ViewFileInfo): Readable | undefined;
  /** Before a node runs. Throwing (e.g. a NodeError) fails the node; awaiting delays it. */
  onNodeStart?(node: NodeInfo): void | Promise<void>;
  /** May replace an output node's UI output (e.g. with hostile file names) before it is sent and stored. */
  onNodeOutput?(node: NodeInfo & { output: Record<string, unknown> }): Record<string, unknown> | undefined;
}

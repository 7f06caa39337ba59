/**
 * A ComfyUI-compatible simulator: the real server's HTTP and WebSocket protocol, message for
 * message (see test/fixtures/traffic/README.md), with procedural pictures instead of models.
 * Used as the test server, for `pyros sim` / the demo, and as a benchmark target.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalogue } from './catalogue/catalogue.ts';
import { NODE_SPECS } from './catalogue/specs.ts';
import type { SimContext } from './context.ts';
import { Executor } from './executor.ts';
import { History } from './history.ts';
import type { SimHooks } from './hooks.ts';
import { InterruptFlag } from './interrupt.ts';
import { NODE_BEHAVIOURS } from './nodes/index.ts';
import { PromptQueue } from './queue.ts';
import { createHttpServer } from './server.ts';
import { SocketHub } from './socket-hub.ts';
import { Storage } from './storage.ts';
import { Worker } from './worker.ts';

export type { SimHooks, RequestInfo, SocketInfo, UpgradeInfo, FrameInfo, NodeInfo, ViewFileInfo } from './hooks.ts';
export { NodeError } from './errors.ts';

/** How long close() waits for the running prompt to stop. */
const STOP_GRACE_MS = 2000;

export interface SimOptions {
  /** 0 (default) = an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Holds output/, temp/ and input/. Default: a fresh directory under os.tmpdir(), removed on close(). */
  dataDir?: string;
  /** Wall time per sampler step, default 30 ms. */
  stepMs?: number;
  /** Binary preview frames while sampling (like --preview-method latent2rgb), default true. */
  previews?: boolean;
  /** Longest edge of preview JPEGs in pixels, default 256. */
  previewSize?: number;
  log?: (line: string) => void;
  /** Fault-injection seam: consulted by the routes, the socket hub and the executor (see hooks.ts). */
  hooks?: SimHooks;
  /** Pads every saved output to this many bytes (sparse, streamed): large downloads for benchmarks. */
  outputBytes?: number;
}

export interface SimServer {
  url: string;
  port: number;
  dataDir: string;
  /** Stops gracefully: the running prompt is interrupted, then connections close. */
  close(): Promise<void>;
  /**
   * Dies like a killed process: every connection is reset at once and nothing more is sent; the
   * running prompt never finishes. Resolves when the port is free (restart with `startSim`).
   */
  kill(): Promise<void>;
  /** Stops answering, like a hung process: requests and upgrades hang, frames and pongs stop. */
  freeze(): void;
  /** Answers again after `freeze()` (requests that arrived meanwhile stay unanswered). */
  thaw(): void;
}

export async function startSim(options: SimOptions = {}): Promise<SimServer> {
  const host = options.host ?? '127.0.0.1';
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pyros-sim-')));
  const log = options.log ?? ((): void => {});
  const hooks = options.hooks ?? {};
  const settings = {
    stepMs: Math.max(0, options.stepMs ?? 30),
    previews: options.previews ?? true,
    previewSize: Math.max(8, Math.round(options.previewSize ?? 256)),
    outputBytes: Math.max(0, Math.floor(options.outputBytes ?? 0)),
  };

  const storage = await Storage.open(dataDir);
  const env = { storage };
  const catalogue = new Catalogue(NODE_SPECS, NODE_BEHAVIOURS, env);
  const interrupt = new InterruptFlag();
  const history = new History();
  const queueHolder: { queue?: PromptQueue } = {};
  const hub = new SocketHub(hooks, () => queueHolder.queue?.remaining ?? 0, log);
  const queue = new PromptQueue(() => hub.broadcastStatus());
  queueHolder.queue = queue;

  const context: SimContext = { storage, env, catalogue, queue, history, hub, interrupt, hooks, settings, log, frozen: false, hanging: new Set() };
  const executor = new Executor({ catalogue, hub, env, interrupt, hooks, settings, log });
  const worker = new Worker(queue, executor, history, hub, interrupt, log);
  const server = createHttpServer(context);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  worker.start();
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`pyros simulator listening on ${url} (data in ${dataDir})`);

  let closing: Promise<void> | undefined;
  const shutdown = (graceful: boolean): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll();
      for (const socket of context.hanging) socket.destroy();
      if (!graceful) server.closeAllConnections();
      // A run stuck in a hook must not keep the server from closing.
      const workerStopped = Promise.race([worker.stop(), new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())]);
      const cleanup = workerStopped.then(async () => {
        server.closeAllConnections();
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      });
      if (graceful) await cleanup;
      await stopped;
    })();
    return closing;
  };

  return {
    url,
    port,
    dataDir,
    close: () => shutdown(true),
    kill: () => shutdown(false),
    freeze: () => {
      context.frozen = true;
      hub.freeze();
    },
    thaw: () => {
      context.frozen = false;
      hub.thaw();
    },
  };
}

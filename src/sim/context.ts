/** Everything the routes share: one instance per running simulator. */
import type { Duplex } from 'node:stream';
import type { Catalogue } from './catalogue/catalogue.ts';
import type { History } from './history.ts';
import type { SimHooks } from './hooks.ts';
import type { InterruptFlag } from './interrupt.ts';
import type { NodeEnvironment, SimSettings } from './nodes/types.ts';
import type { PromptQueue } from './queue.ts';
import type { SocketHub } from './socket-hub.ts';
import type { Storage } from './storage.ts';

export interface SimContext {
  storage: Storage;
  env: NodeEnvironment;
  catalogue: Catalogue;
  queue: PromptQueue;
  history: History;
  hub: SocketHub;
  interrupt: InterruptFlag;
  hooks: SimHooks;
  settings: SimSettings;
  log: (line: string) => void;
  /** Set by `freeze()`: requests and WebSocket upgrades are left unanswered. */
  frozen: boolean;
  /** WebSocket upgrades left unanswered while frozen. */
  hanging: Set<Duplex>;
}

/** ComfyUI's default client_max_size, also announced as max_upload_size. */
export const MAX_BODY_BYTES = 104857600;

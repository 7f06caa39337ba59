/**
 * What a simulated node class does. Its inputs, outputs and widgets come from the real
 * server's /object_info entry (catalogue/specs.ts); this is only the behaviour.
 */
import type { Storage } from '../storage.ts';
import type { Prompt } from '../prompt.ts';

/** Server state a node may consult outside of a run (validation, /object_info). */
export interface NodeEnvironment {
  storage: Storage;
}

export interface PreviewImage {
  format: 'JPEG' | 'PNG';
  bytes: Buffer;
}

export interface SimSettings {
  stepMs: number;
  previews: boolean;
  previewSize: number;
  /** Saved outputs are padded to this many bytes (a sparse file: cheap to make, streamed by /view); 0 = off. */
  outputBytes: number;
}

export interface NodeContext extends NodeEnvironment {
  promptId: string;
  nodeId: string;
  classType: string;
  /** The prompt being run (what SaveImage embeds in its PNGs). */
  prompt: Prompt;
  extraData: Record<string, unknown>;
  settings: SimSettings;
  /**
   * A ComfyUI progress-bar tick: progress_state, progress and, when `preview` is given and
   * someone listens, an image frame (built lazily, only if it will be sent).
   */
  progress(value: number, max: number, preview?: () => PreviewImage | Promise<PreviewImage>): Promise<void>;
  /** Waits like a unit of real work; throws InterruptedError if the run is interrupted. */
  sleep(ms: number): Promise<void>;
  throwIfInterrupted(): void;
  /** A binary TEXT frame (type 3) for this node, sent to every socket like the real server does. */
  sendText(text: string): void;
  /** State kept for this node id across prompts (ComfyUI reuses node objects the same way). */
  nodeState<T>(create: () => T): T;
}

export interface NodeResult {
  /** One value per output slot. */
  outputs?: unknown[];
  /** What the node shows in the UI: sent as `executed` and stored in history. */
  ui?: Record<string, unknown>;
}

export interface CustomValidation {
  /** Inputs checked by `check` instead of the generic range and list checks. */
  inputs: string[];
  /** true, or the reason the values are rejected. */
  check(values: Record<string, unknown>, env: NodeEnvironment): Promise<true | string>;
}

export interface NodeBehaviour {
  run(inputs: Record<string, unknown>, context: NodeContext): NodeResult | Promise<NodeResult>;
  /** Choices that depend on the server (model and input files), replacing the spec's list. */
  comboOptions?: Record<string, (env: NodeEnvironment) => string[] | Promise<string[]>>;
  /** ComfyUI's IS_CHANGED: a value mixed into the cache key, e.g. the hash of a file read. */
  isChanged?(inputs: Record<string, unknown>, env: NodeEnvironment): Promise<unknown>;
  /** ComfyUI's VALIDATE_INPUTS. */
  validateInputs?: CustomValidation;
}

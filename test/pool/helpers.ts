/** Shared tools of the pool tests: several simulators, a small workflow, reading outputs. */
import type { Client } from '../../src/client/client.ts';
import type { PoolJobResult } from '../../src/client/pool.ts';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { startSim, type SimOptions, type SimServer } from '../../src/sim/index.ts';

export async function startSims(count: number, options: SimOptions = {}): Promise<SimServer[]> {
  return Promise.all(Array.from({ length: count }, () => startSim({ port: 0, stepMs: 1, previews: false, ...options })));
}

/** A small txt2img graph; `outputs: 2` adds a second SaveImage after the first (partial outputs). */
export function smallWorkflow(seed: number, options: { steps?: number; outputs?: 1 | 2; size?: number } = {}): ApiWorkflow {
  const size = options.size ?? 64;
  const workflow: ApiWorkflow = {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sim-v1.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: size, height: size, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a pool of servers', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '3': {
      class_type: 'KSampler',
      inputs: { seed, steps: options.steps ?? 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'pool', images: ['8', 0] } },
  };
  if (options.outputs === 2) {
    workflow['10'] = { class_type: 'ImageInvert', inputs: { image: ['8', 0] } };
    workflow['11'] = { class_type: 'SaveImage', inputs: { filename_prefix: 'pool_inverted', images: ['10', 0] } };
  }
  return workflow;
}

export async function download(client: Client, result: Pick<PoolJobResult, 'outputs'>): Promise<Buffer[]> {
  const files: Buffer[] = [];
  for (const output of result.outputs) {
    const response = await client.api.view(output.item);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    files.push(Buffer.concat(chunks));
  }
  return files;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `check` returns true (polled), or rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The values that flow between simulated nodes. Images hold real pixels as float32 0..1, one
 * HWC array per batch item, like ComfyUI's tensors (so inverting and saving give the same bytes
 * as the real server); latents hold the recipe of the picture a sampler "denoised" into them,
 * which VAEDecode renders.
 */
import { totalmem } from 'node:os';
import { NodeError, nodeFrame } from '../errors.ts';
import { tensorRepr } from '../tensor-repr.ts';
import { pyRepr } from '../python.ts';

/** Largest tensor allocation allowed, so a huge request fails the node instead of the process. */
const MAX_TENSOR_BYTES = Math.min(2 ** 30, totalmem() / 8);

/** Fails like torch's CPU allocator when `bytes` cannot be afforded. */
export function ensureAllocatable(bytes: number): void {
  if (bytes <= MAX_TENSOR_BYTES) return;
  throw new NodeError(
    'RuntimeError',
    `[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate ${bytes} bytes.`,
    [nodeFrame('comfy/model_management.py', 1108, 'empty', 'return torch.empty(shape, dtype=dtype, device=device)')],
  );
}

export interface ImageValue {
  kind: 'image';
  width: number;
  height: number;
  channels: 3 | 4;
  /** One row-major HWC array per batch item, 0.0..1.0. */
  frames: Float32Array[];
}

export interface MaskValue {
  kind: 'mask';
  width: number;
  height: number;
  /** One row-major array per batch item, 0..1. */
  frames: Float32Array[];
}

/** What decides the look of a generated picture. */
export interface PictureRecipe {
  prompt: string;
  negative: string;
  seed: number;
  cfg: number;
  sampler: string;
  model: string;
}

export interface LatentValue {
  kind: 'latent';
  /** Size of the image it decodes to, in pixels. */
  width: number;
  height: number;
  batch: number;
  recipe?: PictureRecipe;
  /** How far the recipe's picture replaced `source` (1 = completely). */
  strength?: number;
  /** Pixels encoded by VAEEncode (img2img). */
  source?: ImageValue;
}

export interface ConditioningValue {
  kind: 'conditioning';
  text: string;
}

interface ModelRef<K extends string> {
  kind: K;
  name: string;
}

/** A loaded model, CLIP or VAE: only its file name matters here. */
export type ModelValue = ModelRef<'model'> | ModelRef<'clip'> | ModelRef<'vae'>;

export type SimValue = ImageValue | MaskValue | LatentValue | ConditioningValue | ModelValue;

export function isValue<K extends SimValue['kind']>(value: unknown, kind: K): value is Extract<SimValue, { kind: K }> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === kind;
}

export function newImage(width: number, height: number, channels: 3 | 4, batch: number): ImageValue {
  ensureAllocatable(width * height * channels * batch * 4);
  return { kind: 'image', width, height, channels, frames: Array.from({ length: batch }, () => new Float32Array(width * height * channels)) };
}

/** Bytes to a float32 tensor, as LoadImage does (`array.astype(float32) / 255`). */
export function bytesToFrame(bytes: Uint8Array): Float32Array {
  const frame = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) frame[i] = (bytes[i] ?? 0) / 255;
  return frame;
}

/** A tensor to bytes, as SaveImage does (`clip(255. * x, 0, 255).astype(uint8)`: truncating). */
export function frameToBytes(frame: Float32Array): Uint8Array {
  const bytes = new Uint8Array(frame.length);
  for (let i = 0; i < frame.length; i++) {
    const value = Math.fround(255 * (frame[i] ?? 0));
    bytes[i] = value <= 0 ? 0 : value >= 255 ? 255 : value;
  }
  return bytes;
}

function imageTensor(image: ImageValue): string {
  const frameSize = image.width * image.height * image.channels;
  return tensorRepr({
    shape: [image.frames.length, image.height, image.width, image.channels],
    at: (index) => image.frames[Math.floor(index / frameSize)]?.[index % frameSize] ?? 0,
  });
}

function maskTensor(mask: MaskValue): string {
  const frameSize = mask.width * mask.height;
  return tensorRepr({
    shape: [mask.frames.length, mask.height, mask.width],
    at: (index) => mask.frames[Math.floor(index / frameSize)]?.[index % frameSize] ?? 0,
  });
}

/** A stable fake object address, like the ones Python prints. */
function address(name: string): string {
  let hash = 0x7f3a0000;
  for (const char of name) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) >>> 0;
  return `0x7f${hash.toString(16).padStart(8, '0')}`;
}

const OBJECT_CLASSES: Record<ModelValue['kind'], string> = {
  model: 'comfy.model_patcher.ModelPatcher',
  clip: 'comfy.sd.CLIP',
  vae: 'comfy.sd.VAE',
};

/** str(value) of an input, as execution_error's current_inputs shows it. */
export function describeValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return value;
  if (isValue(value, 'image')) return imageTensor(value);
  if (isValue(value, 'mask')) return maskTensor(value);
  if (isValue(value, 'latent')) {
    const samples = tensorRepr({ shape: [value.batch, 4, Math.floor(value.height / 8), Math.floor(value.width / 8)], at: () => 0 });
    return `{'samples': ${samples}}`;
  }
  if (isValue(value, 'conditioning')) return `[[tensor(...), {'pooled_output': None, 'text': ${pyRepr(value.text)}}]]`;
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'model' || kind === 'clip' || kind === 'vae') {
    return `<${OBJECT_CLASSES[kind]} object at ${address((value as ModelValue).name + kind)}>`;
  }
  return pyRepr(value);
}

/** Reading node inputs, failing like Python would when a value has the wrong type. */
import { NodeError } from '../errors.ts';
import { isValue, type SimValue } from './values.ts';

const PYTHON_TYPES: Record<SimValue['kind'], string> = {
  image: 'Tensor',
  mask: 'Tensor',
  latent: 'dict',
  conditioning: 'list',
  model: 'ModelPatcher',
  clip: 'CLIP',
  vae: 'VAE',
};

function pythonTypeOf(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'object' && 'kind' in value) return PYTHON_TYPES[(value as SimValue).kind] ?? 'object';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  return 'dict';
}

export function requireValue<K extends SimValue['kind']>(value: unknown, kind: K, attribute = 'shape'): Extract<SimValue, { kind: K }> {
  if (isValue(value, kind)) return value;
  throw new NodeError('AttributeError', `'${pythonTypeOf(value)}' object has no attribute '${attribute}'`);
}

export function numberInput(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : typeof value === 'boolean' ? Number(value) : fallback;
}

export function stringInput(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

/** Seed values: what parseSeed accepts, and fresh random seeds. */
import { randomBytes } from 'node:crypto';
import { PyrosError } from '../errors.ts';

/** The largest seed ComfyUI's samplers accept (2^64 - 1). */
export const MAX_SEED = 18446744073709551615n;
/** Random seeds are below 2^48: plenty of them, and far inside the integers a JSON number holds exactly. */
export const RANDOM_SEED_LIMIT = 2 ** 48;

/** A uniformly random integer in [0, 2^48): six random bytes. */
export function randomSeed(): number {
  return randomBytes(6).readUIntBE(0, 6);
}

/** `123` or `random`. Seeds are sent as JSON numbers, so they must also be exact doubles. */
export function parseSeed(text: string | number): number {
  if (typeof text === 'number') return checkSeedNumber(text, String(text));
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'random') return randomSeed();
  if (/^-\s*\d+(\.\d*)?$/.test(trimmed)) throw seedError(text, 'a seed cannot be negative');
  if (/^\+?\d*\.\d+$|^\+?\d+\.\d*$/.test(trimmed)) throw seedError(text, 'a seed must be a whole number');
  if (/^\+?\d+(\.\d*)?e[+-]?\d+$/i.test(trimmed)) throw seedError(text, 'write the seed with digits only');
  if (!/^\+?\d+$/.test(trimmed)) throw seedError(text, 'expected a whole number or "random"');
  const digits = trimmed.replace(/^\+/, '');
  if (BigInt(digits) > MAX_SEED) throw seedError(text, `the largest seed is ${MAX_SEED}`);
  return checkSeedNumber(Number(digits), digits);
}

function checkSeedNumber(value: number, text: string): number {
  if (!Number.isFinite(value) || !Number.isInteger(value)) throw seedError(text, 'a seed must be a whole number');
  if (value < 0) throw seedError(text, 'a seed cannot be negative');
  if (value > Number(MAX_SEED)) throw seedError(text, `the largest seed is ${MAX_SEED}`);
  if (!Number.isSafeInteger(value)) {
    throw seedError(text, `seeds above ${Number.MAX_SAFE_INTEGER} cannot be sent exactly in a JSON number`);
  }
  return value;
}

function seedError(text: string, reason: string): PyrosError {
  return new PyrosError('usage', `Invalid seed "${text}": ${reason}.`, { reason: 'invalid-seed', fields: { value: text, limit: Number.MAX_SAFE_INTEGER } });
}

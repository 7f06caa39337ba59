/**
 * The random choices of prompt variables: a seeded generator (sfc32) started from a SHA-256 of
 * the seed, the template and the occurrence, so the same seed and template always give the same
 * expansion, on any machine and in any version that keeps this function.
 */
import { createHash } from 'node:crypto';

function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A generator for one occurrence of a variable in one template with one seed. */
export function occurrenceRandom(seed: number, template: string, occurrence: number): () => number {
  const digest = createHash('sha256').update(`pyros-vars\0${seed}\0${template}\0${occurrence}`).digest();
  const next = sfc32(digest.readUInt32BE(0), digest.readUInt32BE(4), digest.readUInt32BE(8), digest.readUInt32BE(12));
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** A whole number in [0, count). */
export function pick(random: () => number, count: number): number {
  return Math.min(count - 1, Math.floor(random() * count));
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyrosError } from '../../src/errors.ts';
import { parseSeed, randomSeed, RANDOM_SEED_LIMIT } from '../../src/workflow/seed.ts';

function seedError(input: string | number): string {
  try {
    parseSeed(input);
  } catch (error) {
    assert.ok(error instanceof PyrosError);
    assert.equal(error.kind, 'usage');
    return error.message;
  }
  assert.fail(`expected ${String(input)} to be refused`);
}

test('whole numbers are seeds', () => {
  assert.equal(parseSeed('123'), 123);
  assert.equal(parseSeed(' 0 '), 0);
  assert.equal(parseSeed('+7'), 7);
  assert.equal(parseSeed('9007199254740991'), 9007199254740991);
  assert.equal(parseSeed(156680208700286), 156680208700286);
});

test('"random" is a fresh integer in [0, 2^48)', () => {
  const seeds = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const seed = parseSeed(i % 2 === 0 ? 'random' : 'RANDOM');
    assert.ok(Number.isSafeInteger(seed) && seed >= 0 && seed < RANDOM_SEED_LIMIT, String(seed));
    seeds.add(seed);
  }
  assert.ok(seeds.size > 45, 'random seeds repeat');
  assert.ok([...seeds].some((seed) => seed > 2 ** 40), 'the upper bits are used');
  assert.ok(randomSeed() < 2 ** 48);
});

test('negative, fractional and non-numeric seeds are refused with the reason', () => {
  assert.equal(seedError('-1'), 'Invalid seed "-1": a seed cannot be negative.');
  assert.equal(seedError('1.5'), 'Invalid seed "1.5": a seed must be a whole number.');
  assert.equal(seedError('12.'), 'Invalid seed "12.": a seed must be a whole number.');
  assert.equal(seedError('1e6'), 'Invalid seed "1e6": write the seed with digits only.');
  assert.equal(seedError('abc'), 'Invalid seed "abc": expected a whole number or "random".');
  assert.equal(seedError(''), 'Invalid seed "": expected a whole number or "random".');
  assert.equal(seedError(-3), 'Invalid seed "-3": a seed cannot be negative.');
  assert.equal(seedError(2.5), 'Invalid seed "2.5": a seed must be a whole number.');
  assert.equal(seedError(Number.NaN), 'Invalid seed "NaN": a seed must be a whole number.');
});

test('seeds above 2^64 - 1 are refused, and so are those JSON numbers cannot carry exactly', () => {
  assert.equal(seedError('18446744073709551616'), 'Invalid seed "18446744073709551616": the largest seed is 18446744073709551615.');
  assert.match(seedError('18446744073709551615'), /seeds above 9007199254740991 cannot be sent exactly in a JSON number/);
  assert.match(seedError('9007199254740993'), /cannot be sent exactly/);
});

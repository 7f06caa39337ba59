/** `pyros sim --fault` specs and `--output-size` sizes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSize } from '../../src/cli/commands/sim.ts';
import { parseFaultSpec } from '../../src/sim/faults.ts';

describe('pyros sim faults and sizes', () => {
  it('reads INSTANCE:kill@N and INSTANCE:hang@N, optionally +MS', () => {
    assert.deepEqual(parseFaultSpec('2:kill@5', 3), { instance: 2, action: 'kill', atPrompt: 5, backAfterMs: undefined });
    assert.deepEqual(parseFaultSpec('1:hang@3+2000', 2), { instance: 1, action: 'hang', atPrompt: 3, backAfterMs: 2000 });
  });

  it('refuses a spec it cannot follow', () => {
    assert.throws(() => parseFaultSpec('4:kill@1', 3), /instance 4, but there are 3 instances/);
    assert.throws(() => parseFaultSpec('1:explode@1', 1), /not a fault/);
    assert.throws(() => parseFaultSpec('1:kill@0', 1), /starts at 1/);
    assert.throws(() => parseFaultSpec('kill', 1), /not a fault/);
  });

  it('reads sizes in bytes or binary units', () => {
    assert.equal(parseSize('65536', '--output-size'), 65536);
    assert.equal(parseSize('64K', '--output-size'), 65536);
    assert.equal(parseSize('256M', '--output-size'), 256 * 1024 ** 2);
    assert.equal(parseSize('1G', '--output-size'), 1024 ** 3);
    assert.equal(parseSize('1GiB', '--output-size'), 1024 ** 3);
    assert.throws(() => parseSize('big', '--output-size'), /--output-size must be a size/);
  });
});

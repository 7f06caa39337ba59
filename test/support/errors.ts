import assert from 'node:assert/strict';
import { PyrosError } from '../../src/errors.ts';

/** Runs `action`, expects it to throw a usage PyrosError, and returns it for further checks. */
export function usageError(action: () => unknown): PyrosError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof PyrosError, `expected a PyrosError, got ${String(error)}`);
    assert.equal(error.kind, 'usage');
    return error;
  }
  assert.fail('expected an error');
}

/** As usageError, for an action that may return a promise. */
export async function usageErrorOf(action: () => unknown): Promise<PyrosError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof PyrosError, `expected a PyrosError, got ${String(error)}`);
    assert.equal(error.kind, 'usage');
    return error;
  }
  assert.fail('expected an error');
}

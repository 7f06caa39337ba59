import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processDynamicPrompt } from '../../../src/workflow/editor/index.ts';

test('comments are removed and escapes kept as the plain character', () => {
  assert.equal(processDynamicPrompt('a // comment\nb /* block\nstill */ c \\{d\\} e\\|f'), 'a \nb  c {d} e|f');
});

test('choices, nested choices and empty options follow the random source', () => {
  const sequence = (...values: number[]) => () => values.shift() ?? 0;
  assert.equal(processDynamicPrompt('{a|b|c}', sequence(0.5)), 'b');
  assert.equal(processDynamicPrompt('{x {1|2}|y}', sequence(0, 0.9)), 'x 2');
  assert.equal(processDynamicPrompt('[{|big }cat]', sequence(0)), '[cat]');
  assert.equal(processDynamicPrompt('{only}'), 'only');
});

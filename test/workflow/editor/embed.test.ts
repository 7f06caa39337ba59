/**
 * Writing the values that ran back into the editor workflow: for every pair of the corpus, every
 * input that holds a value is changed in the prompt, written back, and the editor workflow then
 * converts to the changed prompt (or the input is reported as not written).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertEditorWorkflow, workflowWithValues } from '../../../src/workflow/editor/index.ts';
import type { ApiWorkflow } from '../../../src/client/types.ts';
import { loadObjectInfo, loadPairs, pairObjectInfo } from './corpus.ts';

const objectInfo = loadObjectInfo();
const fixed = { random: () => 0, now: new Date('2026-01-02T03:04:05Z') };

/** A different value of the same kind. */
function changed(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value + 1 : value + 0.5;
  if (typeof value === 'string') return `${value} (changed)`;
  if (typeof value === 'boolean') return !value;
  return undefined;
}

test('every changed value lands in the widget it came from, and converts back to the changed prompt', () => {
  let written = 0;
  for (const pair of loadPairs().filter((p) => p.prompt)) {
    const definitions = pairObjectInfo(pair, objectInfo);
    const conversion = convertEditorWorkflow(pair.workflow, definitions, fixed);
    const ran: ApiWorkflow = structuredClone(conversion.prompt);
    const expected: [string, string, unknown][] = [];
    for (const [id, node] of Object.entries(ran)) {
      for (const [input, value] of Object.entries(node.inputs)) {
        const next = changed(value);
        if (next === undefined || !conversion.sources.has(`${id}\u0000${input}`)) continue;
        // Dynamic prompts and %…% replacements are processed again on the way back: not comparable.
        if (typeof value === 'string' && /[{%]/.test(value)) continue;
        node.inputs[input] = next;
        expected.push([id, input, next]);
      }
    }
    const embedded = workflowWithValues(pair.workflow as never, conversion, ran);
    const again = convertEditorWorkflow(embedded.workflow, definitions, fixed).prompt;
    for (const [id, input, value] of expected) {
      if (!embedded.written.includes(`${id}.${input}`)) continue;
      // A widget shared by several inputs (a primitive or a promoted widget) takes the last value written.
      const shared = [...conversion.sources.entries()].filter(([, slot]) => slot === conversion.sources.get(`${id}\u0000${input}`)).length > 1;
      if (!shared) assert.deepEqual(again[id]?.inputs[input], value, `${pair.file}: ${id}.${input}`);
      written += 1;
    }
    assert.deepEqual(pair.workflow, JSON.parse(JSON.stringify(pair.workflow)), 'the workflow given is not changed');
  }
  assert.ok(written > 100, `values written back: ${written}`);
});

test('an unchanged prompt writes nothing back', () => {
  for (const pair of loadPairs().filter((p) => p.prompt)) {
    const conversion = convertEditorWorkflow(pair.workflow, pairObjectInfo(pair, objectInfo), fixed);
    const embedded = workflowWithValues(pair.workflow as never, conversion, conversion.prompt);
    assert.deepEqual(embedded.written, [], pair.file);
    assert.deepEqual(embedded.workflow, pair.workflow, pair.file);
  }
});

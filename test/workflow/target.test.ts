import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { resolveTarget } from '../../src/workflow/target.ts';
import { workflowFixture } from './fixtures.ts';
import { usageError } from '../support/errors.ts';

const txt2img = workflowFixture('sd15_txt2img');

test('resolveTarget: id first, then exact title, then case-insensitive title, then #id, then class type', () => {
  assert.deepEqual(resolveTarget(txt2img, { node: '6', input: 'text' }), { nodeId: '6', input: 'text' });
  assert.deepEqual(resolveTarget(txt2img, { node: 'Positive Prompt', input: 'text' }), { nodeId: '6', input: 'text' });
  assert.deepEqual(resolveTarget(txt2img, { node: 'negative prompt', input: 'text' }), { nodeId: '7', input: 'text' });
  assert.deepEqual(resolveTarget(txt2img, { node: 'Load Checkpoint v1.5', input: 'ckpt_name' }), { nodeId: '4', input: 'ckpt_name' });
  assert.deepEqual(resolveTarget(txt2img, { node: '#3', input: 'seed' }), { nodeId: '3', input: 'seed' });
  assert.deepEqual(resolveTarget(txt2img, { node: 'EmptyLatentImage', input: 'width' }), { nodeId: '5', input: 'width' });
});

test('resolveTarget: an id wins over a title that looks like another id', () => {
  const workflow: ApiWorkflow = {
    1: { class_type: 'PrimitiveInt', inputs: { value: 1 }, _meta: { title: '2' } },
    2: { class_type: 'PrimitiveInt', inputs: { value: 2 } },
  };
  assert.deepEqual(resolveTarget(workflow, { node: '2', input: 'value' }), { nodeId: '2', input: 'value' });
});

test('resolveTarget errors name no option: reason and fields say what was wrong', () => {
  const ambiguous = usageError(() => resolveTarget(workflowFixture('hires_fix'), { node: 'KSampler', input: 'seed' }));
  assert.equal(ambiguous.message, '"KSampler" matches 2 nodes: #3 (KSampler), #11 (KSampler).');
  assert.equal(ambiguous.reason, 'target-ambiguous');
  assert.deepEqual(ambiguous.fields, { target: { node: 'KSampler', input: 'seed' }, candidates: ['3', '11'] });

  const unknown = usageError(() => resolveTarget(txt2img, { node: 'Positve Prompt', input: 'text' }));
  assert.match(unknown.message, /^No node "Positve Prompt" in the workflow\. Closest: #6 "Positive Prompt" \(CLIPTextEncode\), /);
  assert.equal(unknown.reason, 'target-no-node');
  assert.equal(unknown.fields.candidates?.length, 5);
  assert.equal(unknown.fields.candidates?.[0], '6');

  const noInput = usageError(() => resolveTarget(txt2img, { node: 'Positive Prompt', input: 'txt' }));
  assert.equal(noInput.message, '#6 "Positive Prompt" (CLIPTextEncode) has no input "txt". Its inputs: text, clip (connected).');
  assert.equal(noInput.reason, 'target-no-input');
  assert.deepEqual(noInput.fields.node, { nodeId: '6', title: 'Positive Prompt', classType: 'CLIPTextEncode' });
  assert.deepEqual(noInput.fields.candidates, ['6.text']);

  const linked = usageError(() => resolveTarget(txt2img, { node: '6', input: 'clip' }));
  assert.equal(linked.message, '#6 "Positive Prompt" (CLIPTextEncode).clip is connected to #4 "Load Checkpoint v1.5" (CheckpointLoaderSimple) (output 1), so it cannot be set to a value.');
  assert.equal(linked.reason, 'target-linked');
  assert.deepEqual(linked.fields.upstream, { nodeId: '4', inputs: ['ckpt_name'] });
  assert.equal(linked.fields.input, 'clip');

  for (const error of [ambiguous, unknown, noInput, linked]) assert.doesNotMatch(error.message, /--[a-z]|pyros [a-z]/);
});

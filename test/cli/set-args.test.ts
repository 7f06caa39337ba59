import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { hintOf } from '../../src/cli/errors/explain.ts';
import { parseSetArg, parseTarget, resolveTargetArg } from '../../src/cli/set-args.ts';
import { workflowFixture } from '../workflow/fixtures.ts';
import { usageError } from '../support/errors.ts';


const valueOf = (text: string): unknown => {
  const set = parseSetArg(text);
  assert.equal(set.kind, 'value');
  return set.kind === 'value' ? set.value : undefined;
};

test('parseTarget splits on the last dot: titles may contain dots and spaces', () => {
  assert.deepEqual(parseTarget('6.text'), { node: '6', input: 'text', text: '6.text' });
  assert.deepEqual(parseTarget('Load Checkpoint v1.5.ckpt_name'), { node: 'Load Checkpoint v1.5', input: 'ckpt_name', text: 'Load Checkpoint v1.5.ckpt_name' });
  for (const bad of ['6', '.text', '6.', '']) {
    assert.match(usageError(() => parseTarget(bad)).message, /does not name an input: expected NODE\.INPUT/);
  }
});

test('parseSetArg: the input is split at the last dot before "=", the value after the first "="', () => {
  const set = parseSetArg('Load Checkpoint v1.5.ckpt_name=model.v2=final.safetensors');
  assert.equal(set.kind, 'value');
  assert.deepEqual(set.target, { node: 'Load Checkpoint v1.5', input: 'ckpt_name', text: 'Load Checkpoint v1.5.ckpt_name' });
  assert.equal(valueOf('Load Checkpoint v1.5.ckpt_name=model.v2=final.safetensors'), 'model.v2=final.safetensors');
});

test('parseSetArg values: JSON where it parses, the text otherwise', () => {
  assert.equal(valueOf('3.steps=30'), 30);
  assert.equal(valueOf('3.denoise=0.55'), 0.55);
  assert.equal(valueOf('3.cfg=-1.5e1'), -15);
  assert.equal(valueOf('1.flag=true'), true);
  assert.equal(valueOf('1.nothing=null'), null);
  assert.deepEqual(valueOf('1.size=[1,2]'), [1, 2]);
  assert.deepEqual(valueOf('1.obj={"a":1}'), { a: 1 });
  assert.equal(valueOf('1.quoted="123"'), '123');
  assert.equal(valueOf('6.text=a cat, 4k'), 'a cat, 4k');
  assert.equal(valueOf('6.text=0123'), '0123');
  assert.equal(valueOf('6.text=7,5'), '7,5');
  assert.equal(valueOf('6.text='), '');
  assert.equal(valueOf('6.text="@home"'), '@home');
});

test('parseSetArg: @path is a file reference, not read', () => {
  assert.deepEqual(parseSetArg('Load Image.image=@./no/such/file.png'), {
    kind: 'file',
    target: { node: 'Load Image', input: 'image', text: 'Load Image.image' },
    path: './no/such/file.png',
    text: 'Load Image.image=@./no/such/file.png',
  });
  assert.match(usageError(() => parseSetArg('1.image=@')).message, /"@" must be followed by the path/);
});

test('parseSetArg errors: no "=", integers JSON cannot hold exactly', () => {
  assert.match(usageError(() => parseSetArg('3.steps')).message, /^--set "3\.steps" has no value: expected NODE\.INPUT=VALUE/);
  assert.match(usageError(() => parseSetArg('3.seed=18446744073709551615')).message, /too large to send exactly/);
  assert.equal(valueOf('3.seed=9007199254740991'), 9007199254740991);
});

const txt2img = workflowFixture('sd15_txt2img');

test('resolveTargetArg: id first, then exact title, then case-insensitive title, then #id, then class type', () => {
  assert.deepEqual(resolveTargetArg(txt2img, '6.text'), { nodeId: '6', input: 'text' });
  assert.deepEqual(resolveTargetArg(txt2img, 'Positive Prompt.text'), { nodeId: '6', input: 'text' });
  assert.deepEqual(resolveTargetArg(txt2img, 'negative prompt.text'), { nodeId: '7', input: 'text' });
  assert.deepEqual(resolveTargetArg(txt2img, 'Load Checkpoint v1.5.ckpt_name'), { nodeId: '4', input: 'ckpt_name' });
  assert.deepEqual(resolveTargetArg(txt2img, '#3.seed'), { nodeId: '3', input: 'seed' });
  assert.deepEqual(resolveTargetArg(txt2img, 'EmptyLatentImage.width'), { nodeId: '5', input: 'width' });
});

test('resolveTargetArg: an id wins over a title that looks like another id', () => {
  const workflow: ApiWorkflow = {
    1: { class_type: 'PrimitiveInt', inputs: { value: 1 }, _meta: { title: '2' } },
    2: { class_type: 'PrimitiveInt', inputs: { value: 2 } },
  };
  assert.deepEqual(resolveTargetArg(workflow, '2.value'), { nodeId: '2', input: 'value' });
});

test('resolveTargetArg: an ambiguous title lists the matching ids', () => {
  const error = usageError(() => resolveTargetArg(workflowFixture('hires_fix'), 'KSampler.seed', '--set'));
  assert.equal(error.message, '--set "KSampler.seed": "KSampler" matches 2 nodes: #3 (KSampler), #11 (KSampler).');
  assert.equal(error.reason, 'target-ambiguous', 'the library reason stays');
  assert.deepEqual(error.fields.candidates, ['3', '11']);
  assert.match(hintOf(error) ?? '', /Use the node id instead, e\.g\. 3\./);
});

test('resolveTargetArg: an unknown node lists the closest nodes with their class types', () => {
  const error = usageError(() => resolveTargetArg(txt2img, 'Positve Prompt.text'));
  assert.match(usageError(() => resolveTargetArg(txt2img, 'Positve Prompt.text', '/set')).message, /^\/set "Positve Prompt\.text": no node "Positve Prompt" in the workflow\. Closest: /);
  assert.match(error.message, /^No node "Positve Prompt" in the workflow\. Closest: #6 "Positive Prompt" \(CLIPTextEncode\), #7 "Negative Prompt" \(CLIPTextEncode\), /);
  const listed = error.message.split('Closest: ')[1]?.split('), ') ?? [];
  assert.equal(listed.length, 5);

  const byId = usageError(() => resolveTargetArg(txt2img, '33.seed'));
  assert.match(byId.message, /Closest: #3 \(KSampler\)/);
});

test('resolveTargetArg: an unknown input lists the node\'s inputs', () => {
  const error = usageError(() => resolveTargetArg(txt2img, 'Positive Prompt.txt', '--prompt-input'));
  assert.equal(error.message, '--prompt-input "Positive Prompt.txt": #6 "Positive Prompt" (CLIPTextEncode) has no input "txt". Its inputs: text, clip (connected).');
  assert.equal(hintOf(error), 'Did you mean 6.text?');
});

test('resolveTargetArg: a linked input cannot be set, and the hint points upstream', () => {
  const error = usageError(() => resolveTargetArg(txt2img, '6.clip'));
  assert.equal(error.message, '#6 "Positive Prompt" (CLIPTextEncode).clip is connected to #4 "Load Checkpoint v1.5" (CheckpointLoaderSimple) (output 1), so it cannot be set to a value.');
  assert.equal(hintOf(error), 'Set the value on the node it comes from instead: --set 4.ckpt_name=…');

  const flux = workflowFixture('flux_custom_sampler');
  const seedLink = usageError(() => resolveTargetArg(flux, 'RandomNoise.noise_seed', '--seed-input'));
  assert.match(seedLink.message, /connected to #30 "Seed" \(PrimitiveInt\) \(output 0\)/);
  assert.equal(hintOf(seedLink), 'Set the value on the node it comes from instead: --set 30.value=…');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { applyPatches } from '../../src/workflow/patch.ts';
import { trafficWorkflow, workflowFixture } from './fixtures.ts';
import { usageError } from '../support/errors.ts';


const input = (workflow: ApiWorkflow, nodeId: string, name: string): unknown => workflow[nodeId]?.inputs[name];

test('a deep copy is patched; the workflow passed in is untouched', () => {
  const original = workflowFixture('sd15_txt2img');
  const before = structuredClone(original);
  const { workflow } = applyPatches(original, { prompt: 'a red bicycle', seed: 7, sets: [{ node: '3', input: 'steps', value: 30 }, { node: '5', input: 'width', value: 768 }] });
  assert.deepEqual(original, before);
  assert.equal(input(workflow, '6', 'text'), 'a red bicycle');
  assert.equal(input(workflow, '3', 'seed'), 7);
  assert.equal(input(workflow, '3', 'steps'), 30);
  assert.equal(input(workflow, '5', 'width'), 768);
  assert.notEqual(workflow['3']?.inputs, original['3']?.inputs);
  assert.deepEqual(input(workflow, '3', 'positive'), ['6', 0]);
});

test('the prompt and the seed on the detected inputs are reported as detected', () => {
  const result = applyPatches(workflowFixture('sd15_txt2img'), { prompt: 'a lighthouse', seed: '99' });
  assert.deepEqual(result.applied.prompt, {
    nodeId: '6',
    input: 'text',
    title: 'Positive Prompt',
    classType: 'CLIPTextEncode',
    detected: true,
    how: 'positive conditioning of #3 (KSampler)',
  });
  assert.deepEqual(result.applied.seeds, [
    { nodeId: '3', input: 'seed', title: 'KSampler', classType: 'KSampler', detected: true, how: 'a number in an input named seed', value: 99 },
  ]);
  assert.equal(input(result.workflow, '7', 'text'), 'blurry, low quality, watermark', 'the negative is left alone');
  assert.deepEqual(result.notes, []);
});

test('without a seed, the seeds the workflow already holds are reported, unchanged', () => {
  const result = applyPatches(workflowFixture('hires_fix'), {});
  assert.deepEqual(
    result.applied.seeds.map((s) => [s.nodeId, s.input, s.value, s.detected]),
    [['3', 'seed', 1234, true], ['11', 'seed', 5678, true]],
  );
  assert.equal(result.applied.prompt, undefined);
  assert.equal(input(result.workflow, '11', 'seed'), 5678);
});

test('a seed is set on every detected seed input, and "random" reports the seed it drew', () => {
  const fixed = applyPatches(workflowFixture('hires_fix'), { seed: 42 });
  assert.deepEqual([input(fixed.workflow, '3', 'seed'), input(fixed.workflow, '11', 'seed')], [42, 42]);

  const random = applyPatches(workflowFixture('hires_fix'), { seed: 'random' });
  const drawn = random.applied.seeds[0]?.value;
  assert.ok(typeof drawn === 'number' && drawn >= 0 && drawn < 2 ** 48);
  assert.deepEqual(random.applied.seeds.map((s) => s.value), [drawn, drawn]);
  assert.equal(input(random.workflow, '11', 'seed'), drawn);
});

test('a seed linked to a primitive is set on the primitive', () => {
  const result = applyPatches(workflowFixture('flux_custom_sampler'), { seed: 5 });
  assert.equal(input(result.workflow, '30', 'value'), 5);
  assert.deepEqual(input(result.workflow, '25', 'noise_seed'), ['30', 0]);
  assert.deepEqual(result.applied.seeds.map((s) => [s.nodeId, s.input, s.title, s.value]), [['30', 'value', 'Seed', 5]]);
});

test('configured inputs are used instead of detection, and reported as not detected', () => {
  const result = applyPatches(workflowFixture('hires_fix'), { prompt: 'x', promptInput: { node: '6', input: 'text' }, seed: 3, seedInput: { node: '#11', input: 'seed' } });
  assert.equal(input(result.workflow, '6', 'text'), 'x', 'the configured input, even though it is the negative');
  assert.equal(input(result.workflow, '7', 'text'), 'portrait of a lighthouse keeper, film grain');
  assert.deepEqual(result.applied.prompt, { nodeId: '6', input: 'text', title: 'CLIP Text Encode (Prompt)', classType: 'CLIPTextEncode', detected: false });
  assert.deepEqual(result.applied.seeds, [{ nodeId: '11', input: 'seed', title: 'KSampler', classType: 'KSampler', detected: false, value: 3 }]);
  assert.equal(input(result.workflow, '3', 'seed'), 1234);

  const unchanged = applyPatches(workflowFixture('hires_fix'), { seedInput: { node: '3', input: 'seed' } });
  assert.deepEqual(unchanged.applied.seeds.map((s) => [s.nodeId, s.value, s.detected]), [['3', 1234, false]]);
});

test('a configured seed input must hold a number', () => {
  const error = usageError(() => applyPatches(workflowFixture('sd15_txt2img'), { seed: 1, seedInput: { node: 'Positive Prompt', input: 'text' } }));
  assert.equal(error.message, '#6 "Positive Prompt" (CLIPTextEncode).text holds a string, not a seed number.');
  assert.equal(error.reason, 'seed-input-not-number');
  assert.equal(error.fields.option, 'seedInput');
  assert.deepEqual(error.fields.target, { node: 'Positive Prompt', input: 'text' });
});

test('sets are applied after the prompt and the seed, and reported with the value and title', () => {
  const result = applyPatches(workflowFixture('sd15_txt2img'), {
    seed: 1,
    sets: [
      { node: 'Load Checkpoint v1.5', input: 'ckpt_name', value: 'dreamshaper.v8.safetensors' },
      { node: 'KSampler', input: 'seed', value: 77 },
      { node: 'empty latent image', input: 'batch_size', value: 4 },
    ],
  });
  assert.deepEqual(
    result.applied.sets.map((s) => [s.nodeId, s.input, s.title, s.value]),
    [['4', 'ckpt_name', 'Load Checkpoint v1.5', 'dreamshaper.v8.safetensors'], ['3', 'seed', 'KSampler', 77], ['5', 'batch_size', 'Empty Latent Image', 4]],
  );
  assert.equal(input(result.workflow, '3', 'seed'), 77);
  assert.equal(result.applied.seeds[0]?.value, 77, 'the seed reported is the one actually used');
  assert.deepEqual(result.notes, [{ kind: 'set-overrides-seed', index: 1, nodeId: '3', input: 'seed' }]);
});

test('a set on the prompt input is noted as overriding the prompt', () => {
  const result = applyPatches(workflowFixture('sd15_txt2img'), { prompt: 'a fox', sets: [{ node: '6', input: 'text', value: 'a crow' }] });
  assert.equal(input(result.workflow, '6', 'text'), 'a crow');
  assert.deepEqual(result.notes, [{ kind: 'set-overrides-prompt', index: 0, nodeId: '6', input: 'text' }]);
});

test('notes are data: a value changing kind, a repeated set, the other text box of a Flux encoder, other positive texts', () => {
  const kind = applyPatches(workflowFixture('sd15_txt2img'), {
    sets: [
      { node: '3', input: 'cfg', value: '7,5' },
      { node: '3', input: 'steps', value: 10 },
      { node: 'KSampler', input: 'steps', value: 12 },
    ],
  });
  assert.deepEqual(kind.notes, [
    { kind: 'kind-changed', option: 'sets', index: 0, nodeId: '3', input: 'cfg', previous: 8, value: '7,5' },
    { kind: 'set-repeated', index: 2, nodeId: '3', input: 'steps', value: 12 },
  ]);
  assert.equal(input(kind.workflow, '3', 'steps'), 12);

  const flux = applyPatches(workflowFixture('flux_custom_sampler'), { prompt: 'a heron' });
  assert.equal(input(flux.workflow, '6', 't5xxl'), 'a heron');
  assert.deepEqual(flux.notes, [{ kind: 'other-text-inputs', nodeId: '6', input: 'clip_l' }]);

  const combined = applyPatches(workflowFixture('controlnet_combine'), { prompt: 'a dragon' });
  assert.equal(input(combined.workflow, '6', 'text'), 'a dragon');
  assert.equal(input(combined.workflow, '12', 'text'), 'oil painting, dramatic lighting');
  assert.deepEqual(combined.notes, [{ kind: 'other-positive-inputs', inputs: [{ nodeId: '12', input: 'text' }] }]);
});

test('a prompt with no prompt input found: says so, with the text inputs as candidates', () => {
  const workflow: ApiWorkflow = {
    1: { class_type: 'CLIPTextEncode', inputs: { text: 'a boat', clip: ['9', 1] } },
    2: { class_type: 'MysterySampler', inputs: { conditioning: ['1', 0] } },
  };
  const error = usageError(() => applyPatches(workflow, { prompt: 'x' }));
  assert.equal(
    error.message,
    'No prompt input was found: no text encoder feeds the positive conditioning of a sampler pyros recognises. Text inputs in this workflow: #1 (CLIPTextEncode).text.',
  );
  assert.equal(error.reason, 'prompt-not-found');
  assert.deepEqual(error.fields, { option: 'prompt', candidates: ['1.text'] });

  const none = usageError(() => applyPatches(trafficWorkflow('e_interrupt', 'running_job'), { prompt: 'x' }));
  assert.match(none.message, /The workflow has no text inputs\.$/);
});

test('a prompt with several positive texts and no telling title: refused with the candidates', () => {
  const workflow = workflowFixture('controlnet_combine');
  for (const node of Object.values(workflow)) delete node._meta;
  const error = usageError(() => applyPatches(workflow, { prompt: 'x' }));
  assert.equal(error.message, 'Several text inputs feed the positive conditioning, and none is titled as the prompt: #6 (CLIPTextEncode).text; #12 (CLIPTextEncode).text.');
  assert.equal(error.reason, 'prompt-ambiguous');
  assert.deepEqual(error.fields.candidates, ['6.text', '12.text']);
});

test('a seed with no seed input found: says so, with what looks like a seed as candidates', () => {
  const error = usageError(() => applyPatches(trafficWorkflow('a_success'), { seed: 1 }));
  assert.equal(error.message, 'No seed input was found: no node has a seed or noise_seed input holding a number.');
  assert.equal(error.reason, 'seed-not-found');
  assert.deepEqual(error.fields, { option: 'seed', candidates: [] });
  assert.deepEqual(applyPatches(trafficWorkflow('a_success'), {}).applied, { seeds: [], sets: [] });

  const oddlyNamed: ApiWorkflow = { 1: { class_type: 'CustomSampler', inputs: { rand_seed: 4 } } };
  const listed = usageError(() => applyPatches(oddlyNamed, { seed: 1 }));
  assert.match(listed.message, /Inputs that look like seeds: #1 \(CustomSampler\)\.rand_seed/);
  assert.deepEqual(listed.fields.candidates, ['1.rand_seed']);
});

test('a bad seed or set is a usage error; a failing set says which entry it is', () => {
  const seed = usageError(() => applyPatches(workflowFixture('sd15_txt2img'), { seed: '-4' }));
  assert.match(seed.message, /cannot be negative/);
  assert.equal(seed.reason, 'invalid-seed');
  const linked = usageError(() => applyPatches(workflowFixture('sd15_txt2img'), { sets: [{ node: '3', input: 'steps', value: 2 }, { node: '6', input: 'clip', value: 1 }] }));
  assert.match(linked.message, /^#6 "Positive Prompt" \(CLIPTextEncode\)\.clip is connected to #4/);
  assert.equal(linked.reason, 'target-linked');
  assert.equal(linked.fields.option, 'sets');
  assert.equal(linked.fields.index, 1);
  const unknown = usageError(() => applyPatches(workflowFixture('sd15_txt2img'), { sets: [{ node: 'Nope', input: 'text', value: 1 }] }));
  assert.match(unknown.message, /^No node "Nope"/);
  assert.deepEqual([unknown.fields.option, unknown.fields.index], ['sets', 0]);
  const promptInput = usageError(() => applyPatches(workflowFixture('sd15_txt2img'), { prompt: 'x', promptInput: { node: 'Nope', input: 'text' } }));
  assert.deepEqual([promptInput.reason, promptInput.fields.option], ['target-no-node', 'promptInput']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { hintOf } from '../../src/cli/errors/explain.ts';
import { patchWithFlags } from '../../src/cli/patch-flags.ts';
import { parseSetArg } from '../../src/cli/set-args.ts';
import { trafficWorkflow, workflowFixture } from '../workflow/fixtures.ts';
import { usageError } from '../support/errors.ts';


const input = (workflow: ApiWorkflow, nodeId: string, name: string): unknown => workflow[nodeId]?.inputs[name];

test('configured inputs are used instead of detection, and reported as not detected', () => {
  const result = patchWithFlags(workflowFixture('hires_fix'), { prompt: 'x', promptInput: '6.text', seed: 3, seedInput: '#11.seed' });
  assert.equal(input(result.workflow, '6', 'text'), 'x', 'the configured input, even though it is the negative');
  assert.equal(input(result.workflow, '7', 'text'), 'portrait of a lighthouse keeper, film grain');
  assert.deepEqual(result.applied.prompt, { nodeId: '6', input: 'text', title: 'CLIP Text Encode (Prompt)', classType: 'CLIPTextEncode', detected: false });
  assert.deepEqual(result.applied.seeds, [{ nodeId: '11', input: 'seed', title: 'KSampler', classType: 'KSampler', detected: false, value: 3 }]);
  assert.equal(input(result.workflow, '3', 'seed'), 1234);

  const unchanged = patchWithFlags(workflowFixture('hires_fix'), { seedInput: '3.seed' });
  assert.deepEqual(unchanged.applied.seeds.map((s) => [s.nodeId, s.value, s.detected]), [['3', 1234, false]]);
});

test('a configured seed input must hold a number', () => {
  const error = usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { seed: 1, seedInput: 'Positive Prompt.text' }));
  assert.equal(error.message, '--seed-input "Positive Prompt.text": #6 "Positive Prompt" (CLIPTextEncode).text holds a string, not a seed number.');
  assert.match(hintOf(error) ?? '', /Name an input that holds a whole number/);
});

test('--set is applied after --prompt/--seed and reported with the value and title', () => {
  const result = patchWithFlags(workflowFixture('sd15_txt2img'), {
    seed: 1,
    sets: ['Load Checkpoint v1.5.ckpt_name=dreamshaper.v8.safetensors', 'KSampler.seed=77', 'empty latent image.batch_size=4'],
  });
  assert.deepEqual(
    result.applied.sets.map((s) => [s.nodeId, s.input, s.title, s.value]),
    [['4', 'ckpt_name', 'Load Checkpoint v1.5', 'dreamshaper.v8.safetensors'], ['3', 'seed', 'KSampler', 77], ['5', 'batch_size', 'Empty Latent Image', 4]],
  );
  assert.equal(input(result.workflow, '3', 'seed'), 77);
  assert.equal(result.applied.seeds[0]?.value, 77, 'the seed reported is the one actually used');
  assert.deepEqual(result.notes, ['--set 3.seed replaces the seed --seed put there.']);
});

test('parsed SetArgs are accepted; file references must be uploaded first', () => {
  const result = patchWithFlags(workflowFixture('sd15_txt2img'), { sets: [parseSetArg('3.cfg=4.5')] });
  assert.equal(input(result.workflow, '3', 'cfg'), 4.5);
  const error = usageError(() => patchWithFlags(workflowFixture('controlnet_combine'), { sets: ['Load Image.image=@pose.png'] }));
  assert.match(error.message, /names a file to upload; upload it first/);
});

test('notes: a value changing kind, a repeated --set, the other text box of a Flux encoder, other positive texts', () => {
  const kind = patchWithFlags(workflowFixture('sd15_txt2img'), { sets: ['3.cfg=7,5', '3.steps=10', '3.steps=12'] });
  assert.deepEqual(kind.notes, [
    '--set 3.cfg: #3 (KSampler).cfg held a number (8) and now holds a string ("7,5").',
    '--set 3.steps is given more than once; the last value (12) is used.',
  ]);
  assert.equal(input(kind.workflow, '3', 'steps'), 12);

  const flux = patchWithFlags(workflowFixture('flux_custom_sampler'), { prompt: 'a heron' });
  assert.equal(input(flux.workflow, '6', 't5xxl'), 'a heron');
  assert.deepEqual(flux.notes, ['#6 "Flux Prompt" (CLIPTextEncodeFlux).clip_l also holds text and was left unchanged (--set 6.clip_l=… changes it).']);

  const combined = patchWithFlags(workflowFixture('controlnet_combine'), { prompt: 'a dragon' });
  assert.equal(input(combined.workflow, '6', 'text'), 'a dragon');
  assert.equal(input(combined.workflow, '12', 'text'), 'oil painting, dramatic lighting');
  assert.deepEqual(combined.notes, ['Also feeding positive conditioning, left unchanged: #12 "Style" (CLIPTextEncode).text.']);
});

test('--prompt with no prompt input found: says so, how to name one, and lists the text inputs', () => {
  const workflow: ApiWorkflow = {
    1: { class_type: 'CLIPTextEncode', inputs: { text: 'a boat', clip: ['9', 1] } },
    2: { class_type: 'MysterySampler', inputs: { conditioning: ['1', 0] } },
  };
  const error = usageError(() => patchWithFlags(workflow, { prompt: 'x' }));
  assert.equal(
    error.message,
    '--prompt: no prompt input was found: no text encoder feeds the positive conditioning of a sampler pyros recognises. Text inputs in this workflow: #1 (CLIPTextEncode).text.',
  );
  assert.match(hintOf(error) ?? '', /--prompt-input NODE\.INPUT \(e\.g\. --prompt-input 1\.text\)/);

  const none = usageError(() => patchWithFlags(trafficWorkflow('e_interrupt', 'running_job'), { prompt: 'x' }));
  assert.match(none.message, /The workflow has no text inputs\.$/);
});

test('--prompt with several positive texts and no telling title: refused with the candidates', () => {
  const workflow = workflowFixture('controlnet_combine');
  for (const node of Object.values(workflow)) delete node._meta;
  const error = usageError(() => patchWithFlags(workflow, { prompt: 'x' }));
  assert.equal(error.message, '--prompt: several text inputs feed the positive conditioning, and none is titled as the prompt: #6 (CLIPTextEncode).text; #12 (CLIPTextEncode).text.');
});

test('--seed with no seed input found: says so and how to name one', () => {
  const error = usageError(() => patchWithFlags(trafficWorkflow('a_success'), { seed: 1 }));
  assert.equal(error.message, '--seed: no seed input was found: no node has a seed or noise_seed input holding a number.');
  assert.match(hintOf(error) ?? '', /--seed-input NODE\.INPUT/);
  assert.deepEqual(patchWithFlags(trafficWorkflow('a_success'), {}).applied, { seeds: [], sets: [] });

  const oddlyNamed: ApiWorkflow = { 1: { class_type: 'CustomSampler', inputs: { rand_seed: 4 } } };
  const listed = usageError(() => patchWithFlags(oddlyNamed, { seed: 1 }));
  assert.match(listed.message, /Inputs that look like seeds: #1 \(CustomSampler\)\.rand_seed/);
  assert.match(hintOf(listed) ?? '', /e\.g\. --seed-input 1\.rand_seed/);
});

test('bad --seed and --set are usage errors before anything is applied', () => {
  assert.match(usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { seed: '-4' })).message, /cannot be negative/);
  assert.match(usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { sets: ['6.clip=1'] })).message, /^--set "6\.clip": .* is connected to #4/);
  assert.match(usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { sets: ['Nope.text=1'] })).message, /^--set "Nope\.text": no node "Nope"/);
  const second = usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { sets: ['3.steps=2', 'Positive Prompt.txt=x'] }));
  assert.match(second.message, /^--set "Positive Prompt\.txt": #6 "Positive Prompt" \(CLIPTextEncode\) has no input "txt"/, 'the entry that failed is named');
  assert.equal(hintOf(second), 'Did you mean 6.text?');
  const promptInput = usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { prompt: 'x', promptInput: 'Nope.text' }));
  assert.match(promptInput.message, /^--prompt-input "Nope\.text": no node "Nope"/);
  assert.match(usageError(() => patchWithFlags(workflowFixture('sd15_txt2img'), { sets: ['3.steps'] })).message, /^--set "3\.steps" has no value/);
});

test('notes on the prompt: a --set that replaces it, and a prompt put where a number was', () => {
  const replaced = patchWithFlags(workflowFixture('sd15_txt2img'), { prompt: 'a fox', sets: ['6.text=a crow'] });
  assert.deepEqual(replaced.notes, ['--set 6.text replaces the text --prompt put there.']);
  const kind = patchWithFlags(workflowFixture('sd15_txt2img'), { prompt: 'x', promptInput: '3.steps' });
  assert.deepEqual(kind.notes, ['--prompt: #3 (KSampler).steps held a number (20) and now holds a string ("x").']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiNode, ApiWorkflow } from '../../src/client/types.ts';
import { detectPrompt, detectSeeds } from '../../src/workflow/detect.ts';
import { trafficWorkflow, workflowFixture } from './fixtures.ts';

const at = (ref: { nodeId: string; input: string } | undefined): string | undefined => (ref ? `${ref.nodeId}.${ref.input}` : undefined);
const node = (class_type: string, inputs: ApiNode['inputs'], title?: string): ApiNode =>
  title === undefined ? { class_type, inputs } : { class_type, inputs, _meta: { title } };

test('classic txt2img: the positive encoder, never the negative', () => {
  const detection = detectPrompt(workflowFixture('sd15_txt2img'));
  assert.equal(detection.status, 'detected');
  assert.equal(at(detection.target), '6.text');
  assert.equal(detection.target?.title, 'Positive Prompt');
  assert.equal(detection.target?.classType, 'CLIPTextEncode');
  assert.equal(detection.target?.how, 'positive conditioning of #3 (KSampler)');
  assert.deepEqual(detection.candidates.map(at), ['6.text'], 'the negative is not a candidate');
});

test('the graph decides, not ids or default titles: both encoders are "CLIP Text Encode (Prompt)", the negative has the lower id', () => {
  const detection = detectPrompt(workflowFixture('hires_fix'));
  assert.equal(at(detection.target), '7.text');
  assert.equal(detection.status, 'detected');
});

test('hires fix: both samplers\' seeds, each with its own value', () => {
  const { targets } = detectSeeds(workflowFixture('hires_fix'));
  assert.deepEqual(targets.map(at), ['3.seed', '11.seed']);
});

test('Flux: BasicGuider ← FluxGuidance ← CLIPTextEncodeFlux.t5xxl; the seed is the PrimitiveInt linked into RandomNoise', () => {
  const workflow = workflowFixture('flux_custom_sampler');
  const prompt = detectPrompt(workflow);
  assert.equal(at(prompt.target), '6.t5xxl');
  assert.equal(prompt.target?.how, 'positive conditioning of #22 (BasicGuider) through #26 (FluxGuidance)');

  const seeds = detectSeeds(workflow);
  assert.deepEqual(seeds.targets.map(at), ['30.value']);
  assert.equal(seeds.targets[0]?.title, 'Seed');
  assert.equal(seeds.targets[0]?.how, 'linked from #25 (RandomNoise).noise_seed');
});

test('SDXL with CFGGuider: text linked from a string primitive is set on the primitive; negative text boxes are no candidates', () => {
  const workflow = workflowFixture('sdxl_cfg_guider');
  const prompt = detectPrompt(workflow);
  assert.equal(at(prompt.target), '20.value');
  assert.match(prompt.target?.how ?? '', /^positive conditioning of #15 \(CFGGuider\), text linked into #6 "Positive" \(CLIPTextEncodeSDXL\)$/);
  assert.ok(!prompt.candidates.some((c) => c.nodeId === '7'), 'neither text_g nor text_l of the negative encoder');
  assert.deepEqual(detectSeeds(workflow).targets.map(at), ['16.noise_seed']);
});

test('through ControlNetApplyAdvanced and ConditioningCombine: two positive texts, the title picks "Positive Prompt"', () => {
  const detection = detectPrompt(workflowFixture('controlnet_combine'));
  assert.equal(at(detection.target), '6.text');
  assert.deepEqual(
    detection.candidates.map((c) => [at(c), c.feedsPositive]),
    [['6.text', true], ['12.text', true]],
  );
  assert.match(detection.target?.how ?? '', /through #17 "Apply ControlNet" \(ControlNetApplyAdvanced\) ← #14 "Conditioning \(Combine\)"/);
  assert.match(detection.target?.how ?? '', /chosen by its title among 2 text inputs/);
});

test('without telling titles, two positive texts are ambiguous, and the negative still never appears', () => {
  const workflow = workflowFixture('controlnet_combine');
  for (const item of Object.values(workflow)) delete item._meta;
  const detection = detectPrompt(workflow);
  assert.equal(detection.status, 'ambiguous');
  assert.equal(detection.target, undefined);
  assert.deepEqual(detection.candidates.map(at), ['6.text', '12.text']);
});

test('a title saying "prompt" on the negative does not make it the prompt', () => {
  const workflow: ApiWorkflow = {
    1: node('CLIPTextEncode', { text: 'a cat', clip: ['9', 1] }, 'Subject'),
    2: node('CLIPTextEncode', { text: 'in the rain', clip: ['9', 1] }, 'Details'),
    3: node('CLIPTextEncode', { text: 'blurry', clip: ['9', 1] }, 'Prompt'),
    4: node('ConditioningConcat', { conditioning_to: ['1', 0], conditioning_from: ['2', 0] }),
    5: node('KSampler', { seed: 1, positive: ['4', 0], negative: ['3', 0], model: ['9', 0], latent_image: ['8', 0] }),
  };
  const detection = detectPrompt(workflow);
  assert.equal(detection.status, 'ambiguous');
  assert.deepEqual(detection.candidates.map(at), ['1.text', '2.text']);
});

test('Flux-style negative made by zeroing the positive does not hide the positive', () => {
  const workflow: ApiWorkflow = {
    1: node('CLIPTextEncode', { text: 'a castle', clip: ['9', 1] }),
    2: node('ConditioningZeroOut', { conditioning: ['1', 0] }),
    3: node('KSampler', { seed: 5, positive: ['1', 0], negative: ['2', 0], model: ['9', 0], latent_image: ['8', 0] }),
  };
  assert.equal(at(detectPrompt(workflow).target), '1.text');
});

test('other samplers and guiders: KSamplerAdvanced, SamplerCustom, DualCFGGuider (cond1), PerpNegGuider', () => {
  const encoders: ApiWorkflow = {
    10: node('CLIPTextEncode', { text: 'first', clip: ['9', 1] }),
    11: node('CLIPTextEncode', { text: 'second', clip: ['9', 1] }),
    12: node('CLIPTextEncode', { text: 'negative', clip: ['9', 1] }),
  };
  const samplers: [ApiNode, string][] = [
    [node('KSamplerAdvanced', { noise_seed: 1, positive: ['10', 0], negative: ['12', 0] }), '10.text'],
    [node('SamplerCustom', { noise_seed: 1, positive: ['10', 0], negative: ['12', 0] }), '10.text'],
    [node('DualCFGGuider', { cond1: ['11', 0], cond2: ['10', 0], negative: ['12', 0], cfg_conds: 8 }), '11.text'],
    [node('PerpNegGuider', { positive: ['11', 0], negative: ['12', 0], empty_conditioning: ['10', 0] }), '11.text'],
  ];
  for (const [sampler, expected] of samplers) {
    const detection = detectPrompt({ ...encoders, 1: sampler });
    assert.equal(at(detection.target), expected, sampler.class_type);
    assert.ok(!detection.candidates.some((c) => c.nodeId === '12'), `${sampler.class_type}: negative listed`);
  }
});

test('a custom sampler that looks like KSampler (linked positive/negative plus seed) is recognised', () => {
  const workflow: ApiWorkflow = {
    1: node('CLIPTextEncode', { text: 'dune at night', clip: ['9', 1] }),
    2: node('CLIPTextEncode', { text: 'ugly', clip: ['9', 1] }),
    3: node('KSampler (Efficient)', { seed: 77, steps: 20, positive: ['1', 0], negative: ['2', 0] }),
  };
  assert.equal(at(detectPrompt(workflow).target), '1.text');
});

test('GLIGEN box text is passed through to the conditioning it is applied to', () => {
  const workflow: ApiWorkflow = {
    1: node('CLIPTextEncode', { text: 'a park', clip: ['9', 1] }),
    2: node('GLIGENTextBoxApply', { conditioning_to: ['1', 0], text: 'a dog', width: 64, height: 64, x: 0, y: 0 }),
    3: node('KSampler', { seed: 1, positive: ['2', 0], negative: ['1', 0] }),
  };
  assert.equal(at(detectPrompt(workflow).target), '1.text');
});

test('a conditioning node without text (LotusConditioning): no prompt, but the seed', () => {
  const workflow = trafficWorkflow('e_interrupt', 'running_job');
  const prompt = detectPrompt(workflow);
  assert.equal(prompt.status, 'none');
  assert.deepEqual(prompt.candidates, []);
  assert.deepEqual(detectSeeds(workflow).targets.map(at), ['4.seed']);
});

test('a workflow without sampler: nothing detected', () => {
  const workflow = trafficWorkflow('a_success');
  assert.equal(detectPrompt(workflow).status, 'none');
  assert.deepEqual(detectSeeds(workflow), { targets: [], candidates: [] });
});

test('no recognised sampler: a single text input titled as the prompt is taken, an untitled one only listed', () => {
  const titled: ApiWorkflow = {
    1: node('CLIPTextEncode', { text: 'a boat', clip: ['9', 1] }, 'Main prompt'),
    2: node('MysterySampler', { conditioning: ['1', 0] }),
  };
  assert.equal(at(detectPrompt(titled).target), '1.text');
  const untitled: ApiWorkflow = { ...titled, 1: node('CLIPTextEncode', { text: 'a boat', clip: ['9', 1] }) };
  const detection = detectPrompt(untitled);
  assert.equal(detection.status, 'none');
  assert.deepEqual(detection.candidates.map((c) => [at(c), c.feedsPositive]), [['1.text', false]]);
});

test('seeds: every seed/noise_seed number, links followed to the primitive once, unusable links listed as candidates', () => {
  const workflow: ApiWorkflow = {
    1: node('Seed (rgthree)', { seed: 123 }),
    2: node('KSampler', { seed: ['1', 0], steps: 20 }),
    3: node('KSamplerAdvanced', { noise_seed: ['1', 0] }),
    4: node('ImageAddNoise', { seed: 9, strength: 0.5, image: ['8', 0] }),
    5: node('RandomNoise', { noise_seed: ['6', 0] }),
    6: node('StringToNumber', { text: 'x', mode: 'int' }),
    7: node('CustomSampler', { rand_seed: 5, seed_behavior: 'fixed' }),
  };
  const seeds = detectSeeds(workflow);
  assert.deepEqual(seeds.targets.map(at), ['1.seed', '4.seed']);
  assert.deepEqual(seeds.candidates.map(at), ['5.noise_seed', '7.rand_seed']);
  assert.match(seeds.candidates[0]?.how ?? '', /connected to #6 \(StringToNumber\)/);
});

test('a seed linked to a PrimitiveInt is reported on the primitive', () => {
  const workflow: ApiWorkflow = {
    1: node('PrimitiveInt', { value: 42 }, 'Seed'),
    2: node('KSampler', { seed: ['1', 0] }),
    3: node('KSampler', { seed: ['1', 0] }),
  };
  const seeds = detectSeeds(workflow);
  assert.deepEqual(seeds.targets.map(at), ['1.value']);
  assert.equal(seeds.targets[0]?.how, 'linked from #2 (KSampler).seed');
});

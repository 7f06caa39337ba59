/**
 * The simulator's /object_info must describe each class it implements exactly as the real server
 * does (test/fixtures/traffic/object_info.json was recorded from ComfyUI 0.3.64), so that tools
 * reading node definitions (editor → API conversion: widget order, control_after_generate, …)
 * behave the same against both. Only the choice lists built from files on disk differ.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { NODE_BEHAVIOURS } from '../../src/sim/nodes/index.ts';
import { http } from './helpers.ts';

const real = JSON.parse(readFileSync(new URL('../fixtures/traffic/object_info.json', import.meta.url), 'utf8')) as Record<string, any>;

/** The entry with the file-dependent choice lists (models, input images) blanked out. */
function withoutFileChoices(name: string, entry: any): any {
  const copy = structuredClone(entry);
  for (const input of Object.keys(NODE_BEHAVIOURS[name]?.comboOptions ?? {})) {
    for (const category of ['required', 'optional']) {
      const spec = copy.input[category]?.[input];
      if (spec) spec[0] = '(files)';
    }
  }
  return copy;
}

describe('/object_info of the simulator', () => {
  let sim: SimServer;
  let info: Record<string, any>;
  before(async () => {
    sim = await startSim({ stepMs: 1 });
    info = (await http(sim.url, 'GET', '/object_info')).json;
  });
  after(() => sim.close());

  test('every simulated class is defined exactly as on the real server', () => {
    assert.deepEqual(Object.keys(info).sort(), Object.keys(NODE_BEHAVIOURS).sort());
    for (const [name, entry] of Object.entries(info)) {
      assert.ok(real[name], `${name} is a real ComfyUI class`);
      assert.deepEqual(withoutFileChoices(name, entry), withoutFileChoices(name, real[name]), name);
    }
  });

  test('seed inputs declare control_after_generate like the real server', () => {
    assert.equal(info.KSampler.input.required.seed[1].control_after_generate, true);
    assert.equal(info.KSamplerAdvanced.input.required.noise_seed[1].control_after_generate, true);
    assert.deepEqual(info.KSampler.input_order.required.slice(0, 4), ['model', 'seed', 'steps', 'cfg']);
  });

  test('hidden inputs (prompt, extra_pnginfo) are declared on the savers as on the real server', () => {
    assert.deepEqual(info.SaveImage.input.hidden, { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' });
    assert.deepEqual(info.SaveImage.input_order.hidden, ['prompt', 'extra_pnginfo']);
  });
});

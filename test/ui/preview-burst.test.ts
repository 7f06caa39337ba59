/**
 * A burst of previews over a real socket while the live display decodes them: every JSON
 * message still arrives in order and the job completes; frames, not messages, are dropped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.ts';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { createDisplay } from '../../src/ui/index.ts';
import { until } from '../support/wait.ts';

const STEPS = 500;

function samplerWorkflow(steps: number) {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sim-v1.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a burst of previews', clip: ['4', 1] } },
    '3': {
      class_type: 'KSampler',
      inputs: { seed: 7, steps, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'burst', images: ['8', 0] } },
  };
}

describe('a burst of 500 previews during a job', () => {
  let sim: SimServer;
  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0, previews: true, previewSize: 512 });
  });
  after(async () => {
    await sim.close();
  });

  it('loses no JSON message while the live display decodes previews, and the job completes', async () => {
    let written = 0;
    const terminal = { isTTY: true, columns: 80, rows: 30, write: (chunk: string) => ((written += chunk.length), true) };
    const display = createDisplay({ stream: terminal, mode: 'live', color: true, preview: { protocol: 'blocks', blockColors: 'truecolor', reason: 'test' }, guardExit: false });
    const client = new Client({ server: sim.url });
    try {
      const job = client.run(samplerWorkflow(STEPS));
      const steps: number[] = [];
      let previews = 0;
      job.on('progress', ({ node, value }) => {
        if (node.nodeId === '3') steps.push(value);
      });
      job.on('preview', () => previews++);
      display.attach(job);
      const result = await job.result;
      // The display draws on its own time: the job may end before the first preview is on screen.
      await until(() => display.stats().preview.drawn >= 1, undefined, 'a preview drawn');
      display.stop({ outcome: 'done' });

      assert.deepEqual(steps, Array.from({ length: STEPS }, (_, i) => i + 1), 'every progress message, in order');
      assert.equal(previews, STEPS, 'every preview frame reached the job');
      assert.equal(result.outputs.length, 1);
      const stats = display.stats().preview;
      assert.equal(stats.received, STEPS);
      assert.ok(stats.drawn >= 1, 'at least one preview was drawn');
      assert.ok(stats.drawn < STEPS, `frames were dropped, not queued (drawn ${stats.drawn})`);
      assert.ok(written > 0);
      console.log(`burst: ${STEPS} previews received, ${stats.drawn} drawn, ${stats.dropped} dropped`);
    } finally {
      client.close();
    }
  });
});

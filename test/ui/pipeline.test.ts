import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PreviewPipeline, type PreviewFrame } from '../../src/ui/preview/pipeline.ts';
import { createPreviewRenderer, type RenderedPreview } from '../../src/ui/preview/render.ts';
import { until } from '../support/wait.ts';
import { JPEG_PREVIEW, PNG_IMAGE } from './fixtures/frames.ts';

const blocks = createPreviewRenderer({ protocol: 'blocks', blockColors: 'truecolor', reason: 'test' })!;

function pipelineWith(options: { minIntervalMs?: number; box?: { cols: number; rows: number } } = {}) {
  const rendered: RenderedPreview[] = [];
  const errors: Error[] = [];
  let box = options.box ?? { cols: 40, rows: 20 };
  const pipeline = new PreviewPipeline({
    renderer: blocks,
    box: () => box,
    onRendered: (preview) => rendered.push(preview),
    onError: (error) => errors.push(error),
    minIntervalMs: options.minIntervalMs,
  });
  return { pipeline, rendered, errors, setBox: (next: typeof box) => (box = next) };
}

describe('preview pipeline', () => {
  it('never decodes inside push, and renders the newest frame of a burst', async () => {
    const { pipeline, rendered } = pipelineWith();
    const png: PreviewFrame = { mime: 'image/png', image: PNG_IMAGE };
    const started = performance.now();
    for (let i = 0; i < 499; i++) pipeline.push({ mime: 'image/jpeg', image: JPEG_PREVIEW });
    pipeline.push(png);
    assert.ok(performance.now() - started < 50, 'pushing 500 frames is instant');
    assert.equal(rendered.length, 0, 'nothing rendered synchronously');
    await until(() => rendered.length >= 1);
    await sleep(200);
    const stats = pipeline.stats();
    assert.equal(stats.received, 500);
    assert.equal(stats.rendered, 1, 'only the newest frame');
    assert.equal(stats.dropped, 499);
    // The newest frame was the 32×32 PNG: a square image fills 40 columns at most 20 rows.
    assert.equal(rendered[0]!.cols, 40);
    assert.equal(rendered[0]!.rows, 20);
    pipeline.close();
  });

  it('renders at most about eight frames per second under a steady stream', async () => {
    const { pipeline } = pipelineWith();
    const until = Date.now() + 600;
    while (Date.now() < until) {
      pipeline.push({ mime: 'image/jpeg', image: JPEG_PREVIEW });
      await sleep(4);
    }
    const stats = pipeline.stats();
    pipeline.close();
    assert.ok(stats.received > 50, `received ${stats.received}`);
    assert.ok(stats.rendered >= 2 && stats.rendered <= 7, `rendered ${stats.rendered} in 0.6 s`);
    assert.equal(stats.decode.count, stats.rendered);
    assert.ok(stats.decode.meanMs > 0);
  });

  it('counts frames it cannot decode and goes on', async () => {
    const { pipeline, rendered, errors } = pipelineWith({ minIntervalMs: 0 });
    pipeline.push({ mime: 'image/jpeg', image: Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]) });
    await until(() => errors.length === 1);
    pipeline.push({ mime: 'image/png', image: PNG_IMAGE });
    await until(() => rendered.length === 1);
    assert.equal(pipeline.stats().failed, 1);
    pipeline.close();
  });

  it('renders the last image again at a new size after a resize, without decoding it again', async () => {
    const { pipeline, rendered, setBox } = pipelineWith({ minIntervalMs: 0 });
    pipeline.push({ mime: 'image/jpeg', image: JPEG_PREVIEW });
    await until(() => rendered.length === 1);
    setBox({ cols: 10, rows: 10 });
    pipeline.refit();
    await until(() => rendered.length === 2);
    assert.deepEqual([rendered[1]!.cols, rendered[1]!.rows], [10, 5]);
    assert.equal(pipeline.stats().decode.count, 1);
    pipeline.close();
  });

  it('does nothing after close', async () => {
    const { pipeline, rendered } = pipelineWith({ minIntervalMs: 0 });
    pipeline.push({ mime: 'image/png', image: PNG_IMAGE });
    pipeline.close();
    await sleep(50);
    assert.equal(rendered.length, 0);
  });
});

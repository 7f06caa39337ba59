import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PreviewPipeline, type PreviewFrame } from '../../src/ui/preview/pipeline.ts';
import { createPreviewRenderer, type RenderedPreview } from '../../src/ui/preview/render.ts';
import { until } from '../support/wait.ts';
import { JPEG_PREVIEW, PNG_IMAGE } from './fixtures/frames.ts';

const blocks = createPreviewRenderer({ protocol: 'blocks', blockColors: 'truecolor', reason: 'test' })!;

/** One turn of the event loop: the pipeline's own setImmediate callbacks queued before it have run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function pipelineWith(options: { minIntervalMs?: number; box?: { cols: number; rows: number } } = {}) {
  const rendered: RenderedPreview[] = [];
  const errors: Error[] = [];
  /** When each render started: the pipeline asks the renderer about the frame first thing. */
  const renderStarts: number[] = [];
  let box = options.box ?? { cols: 40, rows: 20 };
  const renderer: typeof blocks = {
    ...blocks,
    needsPixels: (mime) => {
      renderStarts.push(performance.now());
      return blocks.needsPixels(mime);
    },
    render: (input, size) => blocks.render(input, size),
  };
  const pipeline = new PreviewPipeline({
    renderer,
    box: () => box,
    onRendered: (preview) => rendered.push(preview),
    onError: (error) => errors.push(error),
    minIntervalMs: options.minIntervalMs,
  });
  const idle = (): boolean => {
    const stats = pipeline.stats();
    return stats.rendered + stats.dropped + stats.failed === stats.received;
  };
  return { pipeline, rendered, errors, renderStarts, idle, setBox: (next: typeof box) => (box = next) };
}

describe('preview pipeline', () => {
  it('never decodes inside push, and renders the newest frame of a burst', async () => {
    const { pipeline, rendered, renderStarts, idle } = pipelineWith();
    const png: PreviewFrame = { mime: 'image/png', image: PNG_IMAGE };
    for (let i = 0; i < 499; i++) pipeline.push({ mime: 'image/jpeg', image: JPEG_PREVIEW });
    pipeline.push(png);
    assert.equal(pipeline.stats().decode.count, 0, 'nothing decoded inside push');
    assert.equal(renderStarts.length, 0, 'no render started inside push');
    assert.equal(rendered.length, 0, 'nothing rendered synchronously');
    await until(() => rendered.length >= 1 && idle(), undefined, 'the burst to be rendered');
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
    const { pipeline, rendered, renderStarts, idle } = pipelineWith();
    // Two frames at a time, so that frames keep arriving faster than renders (however slow the machine).
    while (rendered.length < 4) {
      pipeline.push({ mime: 'image/jpeg', image: JPEG_PREVIEW });
      pipeline.push({ mime: 'image/jpeg', image: JPEG_PREVIEW });
      await sleep(4);
    }
    await until(idle, undefined, 'the last render to finish');
    const stats = pipeline.stats();
    pipeline.close();
    // A render starts at least 125 ms after the one before (less a few ms: timers count whole milliseconds).
    const gaps = renderStarts.slice(1).map((start, i) => start - renderStarts[i]!);
    assert.ok(gaps.length >= 3 && gaps.every((gap) => gap >= 120), `gaps between renders: ${gaps.map((gap) => gap.toFixed(1)).join(', ')} ms`);
    assert.equal(stats.rendered, renderStarts.length);
    assert.ok(stats.dropped >= stats.rendered, `dropped ${stats.dropped}, rendered ${stats.rendered}`);
    assert.equal(stats.failed, 0);
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
    // Without a pause, a pipeline decodes in the next turn of the event loop and renders in the one after.
    const open = pipelineWith({ minIntervalMs: 0 });
    const closed = pipelineWith({ minIntervalMs: 0 });
    open.pipeline.push({ mime: 'image/png', image: PNG_IMAGE });
    closed.pipeline.push({ mime: 'image/png', image: PNG_IMAGE });
    closed.pipeline.close();
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    assert.equal(open.rendered.length, 1, 'the open pipeline rendered meanwhile');
    assert.equal(closed.rendered.length, 0);
    assert.equal(closed.renderStarts.length, 0);
    open.pipeline.close();
  });
});

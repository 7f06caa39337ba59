/** Unit tests of the simulator's building blocks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode } from 'fast-png';
import jpeg from 'jpeg-js';
import { ExecutionList } from '../../src/sim/execution-order.ts';
import type { Executor, RunOutcome } from '../../src/sim/executor.ts';
import type { History } from '../../src/sim/history.ts';
import { encodeJpegBaseline } from '../../src/sim/imaging/jpeg-encoder.ts';
import { encodePng } from '../../src/sim/imaging/png.ts';
import { InterruptFlag } from '../../src/sim/interrupt.ts';
import { bytesToFrame, frameToBytes } from '../../src/sim/nodes/values.ts';
import type { Prompt } from '../../src/sim/prompt.ts';
import { memberKeyOrder } from '../../src/sim/prompt-order.ts';
import { PyException, pyFloat, pyFloatRepr, pyInt, pyJsonDumps, pyRepr } from '../../src/sim/python.ts';
import type { PromptQueue, QueueItem } from '../../src/sim/queue.ts';
import type { SocketHub } from '../../src/sim/socket-hub.ts';
import { tensorRepr } from '../../src/sim/tensor-repr.ts';
import { Worker } from '../../src/sim/worker.ts';
import { readWorkflow } from './helpers.ts';

describe('tensor repr', () => {
  test('prints small tensors in full, with 4 decimals unless every value is whole', () => {
    const values = [0.2, 1, 0.5, 0];
    assert.equal(tensorRepr({ shape: [2, 2], at: (i) => values[i] ?? 0 }), 'tensor([[0.2000, 1.0000],\n        [0.5000, 0.0000]])');
    assert.equal(tensorRepr({ shape: [2], at: (i) => i }), 'tensor([0., 1.])');
  });

  test('summarises tensors over 1000 elements with 3 edge items', () => {
    assert.equal(tensorRepr({ shape: [2000], at: (i) => i }), 'tensor([   0.,    1.,    2.,  ..., 1997., 1998., 1999.])');
  });
});

describe('Python semantics', () => {
  test('repr and json.dumps formatting', () => {
    assert.equal(pyRepr({ a: [1, 'x', null, true, 2.5, "it's"] }), `{'a': [1, 'x', None, True, 2.5, "it's"]}`);
    assert.equal(pyFloatRepr(1), '1.0');
    assert.equal(pyFloatRepr(1e16), '1e+16');
    assert.equal(pyFloatRepr(1e-7), '1e-07');
    assert.equal(pyJsonDumps({ 'é': ['ü', 1, null] }), '{"\\u00e9": ["\\u00fc", 1, null]}');
  });

  test('int() and float() conversions and their errors', () => {
    assert.equal(pyInt(3.9), 3);
    assert.equal(pyInt(' 42 '), 42);
    assert.equal(pyInt(true), 1);
    assert.throws(() => pyInt('wide'), (error: unknown) => error instanceof PyException && error.message === "invalid literal for int() with base 10: 'wide'");
    assert.throws(() => pyInt('4.0'), PyException);
    assert.throws(() => pyInt(null), /not 'NoneType'/);
    assert.equal(pyFloat('1e3'), 1000);
    assert.throws(() => pyFloat('abc'), /could not convert string to float: 'abc'/);
  });
});

test('memberKeyOrder reads the written order of integer-like keys', () => {
  const text = '{"client_id": "x", "prompt": {"10": {"inputs": {"a": "}\\"{"}}, "9": {}, "2": [1, {"x": 2}]}, "extra": {"3": 1}}';
  assert.deepEqual(memberKeyOrder(text, 'prompt'), ['10', '9', '2']);
  assert.equal(memberKeyOrder(text, 'missing'), undefined);
});

describe('execution order', () => {
  function order(prompt: Prompt, outputs: string[], cached: string[] = []): string[] {
    const outputClasses = new Set(['SaveImage', 'PreviewImage']);
    const list = new ExecutionList(prompt, (id) => cached.includes(id), (id) => outputClasses.has(prompt[id]?.class_type ?? ''));
    for (const output of outputs) list.addNode(output);
    const result: string[] = [];
    while (!list.isEmpty()) {
      const next = list.next() as string;
      result.push(next);
      list.complete(next);
    }
    return result;
  }

  test('follows ComfyUI, not node id order', () => {
    assert.deepEqual(order(readWorkflow('g_progress_previews'), ['7']), ['5', '3', '2', '1', '4', '6', '7']);
    assert.deepEqual(order(readWorkflow('d_execution_error'), ['5']), ['1', '2', '3', '4', '5']);
    assert.deepEqual(order(readWorkflow('h_preview_and_batch'), ['3', '4']), ['1', '3', '2', '4']);
  });

  test('skips cached inputs', () => {
    assert.deepEqual(order(readWorkflow('g_progress_previews'), ['7'], ['1', '2', '3', '5']), ['4', '6', '7']);
  });
});

describe('image encoding', () => {
  test('PNG round trip with text chunks', async () => {
    const pixels = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) & 255);
    const png = await encodePng(pixels, 5, 3, 4, { level: 4, text: [['prompt', '{"1": {}}']] });
    const decoded = decode(png);
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [5, 3, 4]);
    assert.deepEqual(Array.from(decoded.data), Array.from(pixels));
    assert.deepEqual(decoded.text, { prompt: '{"1": {}}' });
  });

  test('the JPEG encoder produces images a decoder reads back faithfully', () => {
    const width = 37;
    const height = 21;
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) rgba.set([(i * 3) % 256, (i * 7) % 200, 120, 255], i * 4);
    const image = jpeg.decode(encodeJpegBaseline(rgba, width, height, 90), { useTArray: true });
    assert.deepEqual([image.width, image.height], [width, height]);
    let error = 0;
    for (let i = 0; i < rgba.length; i++) if (i % 4 !== 3) error += ((rgba[i] ?? 0) - (image.data[i] ?? 0)) ** 2;
    const psnr = 10 * Math.log10((255 * 255) / (error / (width * height * 3)));
    assert.ok(psnr > 25, `PSNR ${psnr.toFixed(1)} dB`);
  });

  test('tensors are saved by truncation, like ComfyUI (inverting 0x99 gives 0x65)', () => {
    const frame = bytesToFrame(Uint8Array.from([0x33, 0x66, 0x99]));
    assert.deepEqual(Array.from(frameToBytes(frame.map((v) => 1 - v))), [0xcc, 0x99, 0x65]);
    assert.deepEqual(Array.from(frameToBytes(bytesToFrame(Uint8Array.from([0, 1, 127, 254, 255])))), [0, 1, 127, 254, 255]);
  });
});

test('the worker stores history before it sends the terminal message, status and executing null', async () => {
  const events: string[] = [];
  const item = { number: 0, promptId: 'p', prompt: {}, extraData: { client_id: 'c' }, outputs: [], sensitive: {} } as QueueItem;
  const outcome: RunOutcome = {
    success: true,
    messages: [],
    outputs: {},
    meta: {},
    terminal: { type: 'execution_success', data: { prompt_id: 'p' }, broadcast: false },
    clientId: 'c',
  };
  let taken = false;
  let release: (value: undefined) => void = () => {};
  const queue = {
    take: () => (taken ? new Promise<undefined>((resolve) => (release = resolve)) : ((taken = true), Promise.resolve(item))),
    finishRunning: () => events.push('status'),
    close: () => release(undefined),
  } as unknown as PromptQueue;
  const history = { put: () => events.push('history') } as unknown as History;
  const hub = { sendJson: (type: string, data: { node?: unknown }) => events.push(type === 'executing' ? `executing ${String(data.node)}` : type) } as unknown as SocketHub;
  const executor = { run: async () => outcome } as unknown as Executor;
  const worker = new Worker(queue, executor, history, hub, new InterruptFlag(), () => {});
  worker.start();
  await new Promise((resolve) => setImmediate(resolve));
  await worker.stop();
  assert.deepEqual(events, ['history', 'execution_success', 'status', 'executing null']);
});

test('an interrupt ends a sleep early', { timeout: 20_000 }, async (t) => {
  // The clock stands still: only the interrupt can end the sleep.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const flag = new InterruptFlag();
  setImmediate(() => flag.raise());
  await assert.rejects(flag.sleep(5000), { name: 'InterruptedError' });
});

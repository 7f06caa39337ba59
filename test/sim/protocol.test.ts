/** WebSocket protocol behaviour of the simulator beyond the recorded scenarios. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jpeg from 'jpeg-js';
import { decodeBinaryFrame } from '../../src/client/binary.ts';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { postJson, readRecording, readWorkflow, TestSocket, type WireFrame } from './helpers.ts';

function samplerPrompt(seed: number, steps: number, size: { width: number; height: number } = { width: 64, height: 64 }): any {
  const prompt = readWorkflow('g_progress_previews');
  prompt['4'].inputs.seed = seed;
  prompt['4'].inputs.steps = steps;
  Object.assign(prompt['3'].inputs, size);
  return prompt;
}

function tinyPrompt(color: number, prefix = 'tiny'): any {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}

function kinds(frames: WireFrame[]): string[] {
  return frames.map((frame) => (frame.text ? frame.json.type : `binary:${frame.bytes.readUInt32BE(0)}`));
}

function executingOrder(socket: TestSocket, promptId: string): string[] {
  return socket.texts.filter((m) => m.type === 'executing' && m.data.prompt_id === promptId && m.data.node !== null).map((m) => m.data.node);
}

async function submit(server: SimServer, prompt: unknown, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await postJson(server.url, '/prompt', { prompt, ...extra });
  assert.equal(response.status, 200, response.text);
  return response.json.prompt_id as string;
}

describe('a successful run', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1 });
  });
  after(() => server.close());

  test('sends the frame types of a_success, in order, ending with executing null', async () => {
    const socket = await TestSocket.open(server.url, 'order');
    const promptId = await submit(server, readWorkflow('a_success'), { client_id: 'order' });
    await socket.waitForCompletion(promptId);
    const recorded = readRecording('a_success')
      .filter((line) => line.kind === 'ws_recv')
      .map((line) => line.json.type as string);
    assert.deepEqual(kinds(socket.frames), recorded);
    await socket.close();
  });

  test('a cached re-run lists every node as cached, re-sends executed and writes no file', async () => {
    const socket = await TestSocket.open(server.url, 'again');
    const promptId = await submit(server, readWorkflow('a_success'), { client_id: 'again' });
    await socket.waitForCompletion(promptId);
    assert.deepEqual(kinds(socket.frames), readRecording('b_cached').filter((l) => l.kind === 'ws_recv').map((l) => l.json.type));
    const cached = socket.texts.find((m) => m.type === 'execution_cached');
    assert.deepEqual(cached.data.nodes, ['1', '2', '3']);
    const executed = socket.texts.find((m) => m.type === 'executed');
    assert.equal(executed.data.output.images[0].filename, 'pyros_fixture_a_00001_.png');
    await socket.close();
  });

  test('nodes with the same inputs are cached even under other node ids', async () => {
    const socket = await TestSocket.open(server.url, 'renumbered');
    const renumbered = {
      '11': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 3368601 } },
      '12': { class_type: 'ImageInvert', inputs: { image: ['11', 0] } },
      '13': { class_type: 'SaveImage', inputs: { images: ['12', 0], filename_prefix: 'pyros_fixture_a' } },
    };
    const promptId = await submit(server, renumbered, { client_id: 'renumbered' });
    await socket.waitForCompletion(promptId);
    assert.deepEqual(socket.texts.find((m) => m.type === 'execution_cached').data.nodes, ['11', '12', '13']);
    await socket.close();
  });

  test('only the previous prompt is cached', async () => {
    const socket = await TestSocket.open(server.url, 'evict');
    await socket.waitForCompletion(await submit(server, tinyPrompt(1), { client_id: 'evict' }));
    const again = await submit(server, readWorkflow('a_success'), { client_id: 'evict' });
    await socket.waitForCompletion(again);
    const cached = socket.texts.find((m) => m.type === 'execution_cached' && m.data.prompt_id === again);
    assert.deepEqual(cached.data.nodes, []);
    await socket.close();
  });

  test('nodes nobody reads are not run, and outputs run in the order the prompt lists them', async () => {
    const socket = await TestSocket.open(server.url, 'order2');
    const prompt = {
      '20': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'first' } },
      '10': { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'second' } },
      '3': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 7 } },
      '4': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 8 } },
      '5': { class_type: 'ImageInvert', inputs: { image: ['3', 0] } },
    };
    // JSON.stringify writes integer-like keys ascending; the server must follow the text as sent.
    const body = `{"prompt": {${['20', '10', '3', '4', '5'].map((id) => `"${id}": ${JSON.stringify(prompt[id as keyof typeof prompt])}`).join(', ')}}, "client_id": "order2"}`;
    const response = await fetch(`${server.url}/prompt`, { method: 'POST', body });
    const { prompt_id: promptId } = (await response.json()) as { prompt_id: string };
    await socket.waitForCompletion(promptId);
    assert.deepEqual(executingOrder(socket, promptId), ['3', '20', '4', '10']);
    await socket.close();
  });

  test('a tiny job completes without waiting on any timer', { timeout: 60_000 }, async (t) => {
    const socket = await TestSocket.open(server.url, 'fast');
    // The clock stands still: a pause anywhere between the POST and the end of the job (a polling
    // loop, a fixed delay) would hold it forever, so finishing at all means it ran straight through.
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    for (let i = 0; i < 7; i++) {
      const promptId = await submit(server, tinyPrompt(100 + i, 'fast'), { client_id: 'fast' });
      await socket.waitForCompletion(promptId);
      assert.ok(socket.texts.some((m) => m.type === 'executed' && m.data.prompt_id === promptId), `prompt ${i + 1} saved its image`);
    }
    t.mock.timers.reset();
    await socket.close();
  });
});

describe('previews and progress', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1 });
  });
  after(() => server.close());

  test('a legacy client gets progress_state → progress → type 1 JPEG per step', async () => {
    const socket = await TestSocket.open(server.url, 'legacy');
    const promptId = await submit(server, samplerPrompt(1, 5, { width: 96, height: 64 }), { client_id: 'legacy' });
    await socket.waitForCompletion(promptId);
    const sequence = kinds(socket.frames);
    const first = sequence.indexOf('progress');
    assert.deepEqual(sequence.slice(first - 1, first + 2), ['progress_state', 'progress', 'binary:1']);
    const previews = socket.frames.filter((frame) => !frame.text);
    assert.equal(previews.length, 5);
    assert.ok(!sequence.includes('binary:4'));
    for (const frame of previews) {
      const decoded = decodeBinaryFrame((frame as { bytes: Buffer }).bytes);
      assert.equal(decoded.kind, 'preview');
      if (decoded.kind !== 'preview') continue;
      assert.equal(decoded.mime, 'image/jpeg');
      assert.equal(decoded.metadata, undefined);
      const image = jpeg.decode(decoded.image, { useTArray: true });
      assert.deepEqual([image.width, image.height], [256, 171], 'previews fit the preview size, keeping the aspect ratio');
    }
    const values = socket.texts.filter((m) => m.type === 'progress').map((m) => `${m.data.value}/${m.data.max}`);
    assert.deepEqual(values, ['1/5', '2/5', '3/5', '4/5', '5/5']);
    await socket.close();
  });

  test('a client announcing supports_preview_metadata gets type 4 frames with metadata, before progress', async () => {
    const socket = await TestSocket.open(server.url, 'modern', { featureFlags: true });
    await socket.waitForText((m) => m.type === 'feature_flags');
    assert.deepEqual(kinds(socket.frames).slice(0, 2), ['status', 'feature_flags']);
    assert.deepEqual(socket.texts[1].data, { supports_preview_metadata: true, max_upload_size: 104857600 });
    const promptId = await submit(server, samplerPrompt(2, 3), { client_id: 'modern' });
    await socket.waitForCompletion(promptId);
    const sequence = kinds(socket.frames);
    const first = sequence.indexOf('binary:4');
    assert.deepEqual(sequence.slice(first - 1, first + 2), ['progress_state', 'binary:4', 'progress']);
    assert.ok(!sequence.includes('binary:1'));
    const frame = socket.frames.find((f) => !f.text) as { bytes: Buffer };
    const decoded = decodeBinaryFrame(frame.bytes);
    assert.ok(decoded.kind === 'preview');
    assert.deepEqual(decoded.metadata, {
      node_id: '4',
      prompt_id: promptId,
      display_node_id: '4',
      parent_node_id: null,
      real_node_id: '4',
      image_type: 'image/jpeg',
    });
    assert.equal(decoded.mime, 'image/jpeg');
    await socket.close();
  });

  test('feature_flags that are not the first frame are ignored', async () => {
    const socket = await TestSocket.open(server.url, 'late');
    socket.send({ type: 'hello', data: {} });
    socket.send({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    const promptId = await submit(server, samplerPrompt(3, 2), { client_id: 'late' });
    await socket.waitForCompletion(promptId);
    const sequence = kinds(socket.frames);
    assert.ok(!sequence.includes('feature_flags'));
    assert.ok(sequence.includes('binary:1') && !sequence.includes('binary:4'));
    await socket.close();
  });

  test('a socket opened without clientId gets a 32-hex sid', async () => {
    const socket = await TestSocket.open(server.url);
    const status = await socket.waitForText((m) => m.type === 'status');
    assert.match(status.data.sid, /^[0-9a-f]{32}$/);
    await socket.close();
  });

  test('without client_id, progress and previews reach every socket and lifecycle frames nobody', async () => {
    const listener = await TestSocket.open(server.url, 'listener');
    await listener.waitForCount(1);
    const promptId = await submit(server, samplerPrompt(4, 2));
    // Nothing announces the end to anyone: the final `status` (queue empty) is the only sign.
    await listener.waitFor((frame) => frame.text && frame.json.type === 'status' && frame.json.data.status.exec_info.queue_remaining === 0, undefined, 1);
    const sequence = kinds(listener.frames);
    assert.ok(sequence.includes('progress') && sequence.includes('progress_state') && sequence.includes('binary:1'));
    for (const type of ['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success']) {
      assert.ok(!sequence.includes(type), `${type} is not broadcast`);
    }
    const history = await fetch(`${server.url}/history/${promptId}`).then((r) => r.json() as Promise<Record<string, any>>);
    assert.equal(history[promptId].status.status_str, 'success');
    assert.deepEqual(history[promptId].prompt[3], {});
    await listener.close();
  });

  test('SaveImageWebsocket sends its images as PNG previews, without executed', async () => {
    const socket = await TestSocket.open(server.url, 'wsimages', { featureFlags: true });
    const promptId = await submit(server, readWorkflow('i_websocket_image_save'), { client_id: 'wsimages' });
    await socket.waitForCompletion(promptId);
    const images = socket.frames.filter((f) => !f.text).map((f) => decodeBinaryFrame((f as { bytes: Buffer }).bytes));
    assert.equal(images.length, 2);
    for (const image of images) assert.ok(image.kind === 'preview' && image.mime === 'image/png' && image.metadata?.image_type === 'image/png');
    assert.ok(!socket.texts.some((m) => m.type === 'executed'));
    await socket.close();
  });
});

describe('without previews', () => {
  test('previews: false sends progress but no binary frames', async () => {
    const server = await startSim({ stepMs: 1, previews: false });
    const socket = await TestSocket.open(server.url, 'quiet');
    const promptId = await submit(server, samplerPrompt(5, 4), { client_id: 'quiet' });
    await socket.waitForCompletion(promptId);
    assert.equal(socket.texts.filter((m) => m.type === 'progress').length, 4);
    assert.ok(socket.frames.every((frame) => frame.text));
    await socket.close();
    await server.close();
  });
});

describe('interrupts, queue and reconnects', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 5 });
  });
  after(() => server.close());

  test('interrupting a prompt that has no client_id broadcasts execution_interrupted', async () => {
    const listener = await TestSocket.open(server.url, 'bystander');
    const promptId = await submit(server, samplerPrompt(6, 400));
    await listener.waitForText((m) => m.type === 'progress');
    await postJson(server.url, '/interrupt', { prompt_id: promptId });
    const interrupted = await listener.waitForText((m) => m.type === 'execution_interrupted');
    assert.equal(interrupted.data.prompt_id, promptId);
    assert.equal(interrupted.data.node_id, '4');
    await listener.close();
  });

  test('an interrupt naming another prompt is ignored', async () => {
    const socket = await TestSocket.open(server.url, 'ignored');
    const promptId = await submit(server, samplerPrompt(7, 6), { client_id: 'ignored' });
    await socket.waitForText((m) => m.type === 'progress');
    const response = await postJson(server.url, '/interrupt', { prompt_id: 'someone-else' });
    assert.equal(response.status, 200);
    assert.equal(response.text, '');
    await socket.waitForCompletion(promptId);
    assert.ok(socket.texts.some((m) => m.type === 'execution_success'));
    await socket.close();
  });

  test('a front submission overtakes pending prompts', async () => {
    const socket = await TestSocket.open(server.url, 'front');
    const slow = await submit(server, samplerPrompt(8, 10), { client_id: 'front' });
    const back = await submit(server, tinyPrompt(11, 'back'), { client_id: 'front' });
    const front = await submit(server, tinyPrompt(12, 'front'), { client_id: 'front', front: true });
    const queue = await fetch(`${server.url}/queue`).then((r) => r.json() as Promise<any>);
    assert.deepEqual(queue.queue_pending.map((item: unknown[]) => item[1]), [front, back]);
    assert.ok((queue.queue_pending[0][0] as number) < 0);
    await socket.waitForCompletion(back);
    const starts = socket.texts.filter((m) => m.type === 'execution_start').map((m) => m.data.prompt_id);
    assert.deepEqual(starts, [slow, front, back]);
    await socket.close();
  });

  test('POST /queue {clear} drops pending prompts and broadcasts status', async () => {
    const socket = await TestSocket.open(server.url, 'clear');
    const running = await submit(server, samplerPrompt(9, 400), { client_id: 'clear' });
    const pending = await submit(server, tinyPrompt(13), { client_id: 'clear' });
    await socket.waitForText((m) => m.type === 'progress');
    const before = socket.frames.length;
    await postJson(server.url, '/queue', { clear: true });
    await socket.waitFor((frame) => frame.text && frame.json.type === 'status' && frame.json.data.status.exec_info.queue_remaining === 1, undefined, before);
    await postJson(server.url, '/interrupt', {});
    await socket.waitForCompletion(running);
    assert.deepEqual(await fetch(`${server.url}/history/${pending}`).then((r) => r.json()), {});
    await socket.close();
  });

  test('a reconnect with the same clientId gets the node being executed, then the rest of the run', async () => {
    const first = await TestSocket.open(server.url, 'comeback');
    const promptId = await submit(server, samplerPrompt(10, 30), { client_id: 'comeback' });
    await first.waitForText((m) => m.type === 'progress');
    await first.close();
    const second = await TestSocket.open(server.url, 'comeback');
    await second.waitForCount(2);
    assert.deepEqual(second.texts.slice(0, 2), [
      { type: 'status', data: { status: { exec_info: { queue_remaining: 1 } }, sid: 'comeback' } },
      { type: 'executing', data: { node: '4' } },
    ]);
    await second.waitForCompletion(promptId);
    assert.ok(second.texts.some((m) => m.type === 'execution_success'));
    await second.close();
  });

  test('a second socket with the same clientId replaces the first', async () => {
    const old = await TestSocket.open(server.url, 'twin');
    const replacement = await TestSocket.open(server.url, 'twin');
    const promptId = await submit(server, tinyPrompt(14), { client_id: 'twin' });
    await replacement.waitForCompletion(promptId);
    assert.ok(!old.texts.some((m) => m.type === 'execution_start'));
    await old.close();
    // Closing the replaced socket must not unregister the new one.
    const next = await submit(server, tinyPrompt(15), { client_id: 'twin' });
    await replacement.waitForCompletion(next);
    await replacement.close();
  });
});

describe('runtime errors and odd graphs', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1 });
  });
  after(() => server.close());

  test('ImageBatch rescales a differently sized image (like ComfyUI) but fails on different channel counts', async () => {
    const socket = await TestSocket.open(server.url, 'batch');
    const resized = await submit(server, {
      '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 1 } },
      '2': { class_type: 'EmptyImage', inputs: { width: 32, height: 16, batch_size: 2, color: 2 } },
      '3': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['2', 0] } },
      '4': { class_type: 'GetImageSize', inputs: { image: ['3', 0] } },
      '5': { class_type: 'PreviewAny', inputs: { source: ['4', 2] } },
    }, { client_id: 'batch' });
    await socket.waitForCompletion(resized);
    assert.deepEqual(socket.texts.find((m) => m.type === 'executed').data.output, { text: ['3'] });
    const text = socket.frames.find((frame) => !frame.text) as { bytes: Buffer };
    assert.deepEqual(decodeBinaryFrame(text.bytes), { kind: 'text', nodeId: '4', text: 'width: 64, height: 64\n batch size: 3' });

    const failing = await submit(server, readWorkflow('d_execution_error'), { client_id: 'batch' });
    await socket.waitForCompletion(failing);
    const error = socket.texts.find((m) => m.type === 'execution_error');
    assert.equal(error.data.exception_type, 'RuntimeError');
    assert.match(error.data.exception_message, /Expected size 3 but got size 4/);
    await socket.close();
  });

  test('a tensor too large to allocate fails the node instead of the server', async () => {
    const socket = await TestSocket.open(server.url, 'huge');
    const promptId = await submit(server, {
      '1': { class_type: 'EmptyImage', inputs: { width: 16384, height: 16384, batch_size: 64, color: 0 } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    }, { client_id: 'huge' });
    await socket.waitForCompletion(promptId);
    const error = socket.texts.find((m) => m.type === 'execution_error');
    assert.deepEqual([error.data.node_id, error.data.exception_type], ['1', 'RuntimeError']);
    assert.match(error.data.exception_message, /not enough memory/);
    await socket.close();
  });

  test('a cycle of links is rejected at validation', async () => {
    const response = await postJson(server.url, '/prompt', {
      prompt: {
        '1': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
        '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
        '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
      },
    });
    assert.equal(response.status, 400);
    assert.equal(response.json.error.type, 'prompt_outputs_failed_validation');
  });

  test('a link to a missing output slot or of the wrong type is reported per node', async () => {
    const response = await postJson(server.url, '/prompt', {
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 3], filename_prefix: 'x' } },
        '3': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
        '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
      },
    });
    assert.equal(response.status, 400);
    assert.equal(response.json.node_errors['2'].errors[0].type, 'exception_during_validation');
    assert.equal(response.json.node_errors['2'].errors[0].extra_info.exception_type, 'IndexError');
    assert.deepEqual(response.json.node_errors['4'].errors[0], {
      type: 'return_type_mismatch',
      message: 'Return type mismatch between linked nodes',
      details: 'images, received_type(LATENT) mismatch input_type(IMAGE)',
      extra_info: { input_name: 'images', input_config: ['IMAGE', {}], received_type: 'LATENT', linked_node: ['3', 0] },
    });
  });

  test('with one valid output of two, the prompt runs that output and reports the other', async () => {
    const socket = await TestSocket.open(server.url, 'partial');
    const response = await postJson(server.url, '/prompt', {
      client_id: 'partial',
      prompt: {
        '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
        '3': { class_type: 'ImageInvert', inputs: {} },
        '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
      },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.json.node_errors), ['3']);
    await socket.waitForCompletion(response.json.prompt_id);
    assert.deepEqual(executingOrder(socket, response.json.prompt_id), ['1', '2']);
    await socket.close();
  });
});

describe('with stepMs 0', () => {
  test('a long sampler still serves requests and can be interrupted', async () => {
    const server = await startSim({ stepMs: 0, previews: false });
    const socket = await TestSocket.open(server.url, 'zero');
    const promptId = await submit(server, samplerPrompt(1, 10000), { client_id: 'zero' });
    await socket.waitForText((m) => m.type === 'progress');
    const queue = await fetch(`${server.url}/queue`).then((r) => r.json() as Promise<any>);
    assert.equal(queue.queue_running[0][1], promptId);
    await postJson(server.url, '/interrupt', {});
    const interrupted = await socket.waitForText((m) => m.type === 'execution_interrupted');
    assert.equal(interrupted.data.node_id, '4');
    await socket.close();
    await server.close();
  });
});

/** HTTP routes: /view, uploads, /api prefix, history and queue routes, the hooks seam, data dirs. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { decodePng, encodePng } from '../../src/sim/imaging/png.ts';
import { NodeError, startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import { http, multipartBody, postJson, TestSocket } from './helpers.ts';

async function pngOf(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgb[i % 3] ?? 0;
  return encodePng(pixels, width, height, 3, { level: 1 });
}

async function upload(server: SimServer, filename: string, data: Buffer, fields: Record<string, string> = {}) {
  const { body, contentType } = multipartBody(fields, [{ field: 'image', filename, contentType: 'image/png', data }]);
  return http(server.url, 'POST', '/upload/image', body, { 'Content-Type': contentType });
}

async function run(server: SimServer, prompt: unknown, clientId: string): Promise<{ promptId: string; socket: TestSocket }> {
  const socket = await TestSocket.open(server.url, clientId);
  const response = await postJson(server.url, '/prompt', { prompt, client_id: clientId });
  assert.equal(response.status, 200, response.text);
  await socket.waitForCompletion(response.json.prompt_id);
  return { promptId: response.json.prompt_id, socket };
}

describe('GET /view', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1 });
    const { socket } = await run(server, {
      '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 8, batch_size: 1, color: 0x123456 } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'nested/dir/shot' } },
    }, 'viewer');
    await socket.close();
  });
  after(() => server.close());

  const view = (query: string, headers?: Record<string, string>) => http(server.url, 'GET', `/view?${query}`, undefined, headers);

  test('serves a saved file with its type, length and disposition', async () => {
    const response = await view('filename=shot_00001_.png&subfolder=nested/dir&type=output');
    assert.equal(response.status, 200);
    assert.equal(response.contentType, 'image/png');
    assert.equal(response.headers.get('content-disposition'), 'filename="shot_00001_.png"');
    assert.equal(Number(response.headers.get('content-length')), response.body.length);
    const image = decodePng(response.body);
    assert.deepEqual([image.width, image.height, image.pixels[0], image.pixels[1], image.pixels[2]], [16, 8, 0x12, 0x34, 0x56]);
  });

  test('rejects .. or an absolute path in the filename, and unknown types, with an empty 400', async () => {
    for (const query of ['filename=../secret.png&type=output', 'filename=/etc/passwd', 'filename=a..b.png', 'filename=x.png&type=bogus']) {
      const response = await view(query);
      assert.equal(response.status, 400, query);
      assert.equal(response.text, '');
      assert.equal(response.contentType, 'application/octet-stream');
    }
  });

  test('refuses a subfolder outside the directory with 403, like ComfyUI', async () => {
    assert.equal((await view('filename=passwd&subfolder=../../../etc&type=output')).status, 403);
    assert.equal((await view('filename=passwd&subfolder=/etc')).status, 403);
  });

  test('answers 404 for a missing file or a missing filename', async () => {
    assert.equal((await view('filename=nope.png&type=output')).status, 404);
    assert.equal((await view('type=output')).status, 404);
  });

  test('honours a byte range', async () => {
    const whole = await view('filename=shot_00001_.png&subfolder=nested/dir');
    const part = await view('filename=shot_00001_.png&subfolder=nested/dir', { Range: 'bytes=8-15' });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(whole.body.subarray(8, 16)));
    assert.equal(part.headers.get('content-range'), `bytes 8-15/${whole.body.length}`);
  });

  test('finds a file named with a [output] annotation', async () => {
    assert.equal((await view('filename=shot_00001_.png%20[output]&subfolder=nested/dir&type=input')).status, 200);
  });
});

describe('POST /upload/image and LoadImage', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1 });
  });
  after(() => server.close());

  test('stores the file in input/ and LoadImage reads it back', async () => {
    const data = await pngOf(6, 4, [10, 200, 30]);
    const response = await upload(server, 'photo.png', data);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json, { name: 'photo.png', subfolder: '', type: 'input' });
    const served = await http(server.url, 'GET', '/view?filename=photo.png&type=input');
    assert.ok(served.body.equals(data));

    const { promptId, socket } = await run(server, {
      '1': { class_type: 'LoadImage', inputs: { image: 'photo.png' } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'inverted' } },
    }, 'loader');
    const history = (await http(server.url, 'GET', `/history/${promptId}`)).json[promptId];
    const saved = history.outputs['3'].images[0];
    const image = decodePng((await http(server.url, 'GET', `/view?filename=${saved.filename}&type=output`)).body);
    // 255 - 200 would be 55; ComfyUI's float32 arithmetic and truncating save give 54.
    assert.deepEqual([image.width, image.height, image.pixels[0], image.pixels[1], image.pixels[2]], [6, 4, 245, 54, 225]);
    await socket.close();
  });

  test('renames a different file with the same name to "name (1).png" and reuses identical bytes', async () => {
    const first = await pngOf(2, 2, [1, 2, 3]);
    const second = await pngOf(2, 2, [4, 5, 6]);
    assert.equal((await upload(server, 'same.png', first)).json.name, 'same.png');
    assert.equal((await upload(server, 'same.png', second)).json.name, 'same (1).png');
    assert.equal((await upload(server, 'same.png', second)).json.name, 'same (1).png', 'identical bytes are not stored twice');
    assert.equal((await upload(server, 'same.png', await pngOf(2, 2, [7, 8, 9]))).json.name, 'same (2).png');
    assert.equal((await upload(server, 'same.png', second, { overwrite: 'true' })).json.name, 'same.png');
  });

  test('accepts a subfolder and a type, and refuses names that leave the directory', async () => {
    const data = await pngOf(2, 2, [9, 9, 9]);
    assert.deepEqual((await upload(server, 'x.png', data, { subfolder: 'sub', type: 'temp' })).json, { name: 'x.png', subfolder: 'sub', type: 'temp' });
    assert.equal((await http(server.url, 'GET', '/view?filename=x.png&subfolder=sub&type=temp')).status, 200);
    assert.equal((await upload(server, 'y.png', data, { subfolder: '../..' })).status, 400);
    assert.equal((await upload(server, 'z.png', data, { type: 'elsewhere' })).status, 500);
  });

  test('LoadImage of a file that does not exist fails validation', async () => {
    const response = await postJson(server.url, '/prompt', {
      prompt: {
        '1': { class_type: 'LoadImage', inputs: { image: 'missing.png' } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      },
    });
    assert.equal(response.status, 400);
    assert.deepEqual(response.json.node_errors['1'].errors, [
      { type: 'custom_validation_failed', message: 'Custom validation failed for node', details: 'image - Invalid image file: missing.png', extra_info: { input_name: 'image' } },
    ]);
  });

  test('a LoadImage whose file changed is not served from the cache', async () => {
    const prompt = {
      '1': { class_type: 'LoadImage', inputs: { image: 'changing.png' } },
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    };
    await upload(server, 'changing.png', await pngOf(2, 2, [1, 1, 1]), { overwrite: 'true' });
    (await run(server, prompt, 'change-1')).socket.close();
    const same = await run(server, prompt, 'change-2');
    assert.deepEqual(same.socket.texts.find((m) => m.type === 'execution_cached').data.nodes, ['1', '2']);
    await upload(server, 'changing.png', await pngOf(2, 2, [2, 2, 2]), { overwrite: 'true' });
    const changed = await run(server, prompt, 'change-3');
    assert.deepEqual(changed.socket.texts.find((m) => m.type === 'execution_cached').data.nodes, []);
    await Promise.all([same.socket.close(), changed.socket.close()]);
  });

  test('/object_info lists the uploaded images as LoadImage choices', async () => {
    const info = (await http(server.url, 'GET', '/object_info/LoadImage')).json;
    const choices = info.LoadImage.input.required.image[0] as string[];
    assert.ok(choices.includes('photo.png') && choices.includes('same (1).png'));
  });
});

describe('routes, /api prefix and history', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1 });
  });
  after(() => server.close());

  test('every route also answers under /api', async () => {
    for (const path of ['/queue', '/prompt', '/system_stats', '/features', '/object_info/KSampler', '/embeddings', '/models', '/history']) {
      const plain = await http(server.url, 'GET', path);
      const prefixed = await http(server.url, 'GET', `/api${path}`);
      assert.equal(prefixed.status, 200, path);
      assert.equal(prefixed.contentType, 'application/json; charset=utf-8');
      if (path !== '/system_stats') assert.deepEqual(prefixed.json, plain.json, path);
    }
    const socket = await TestSocket.open(server.url, undefined, { path: '/api/ws?clientId=prefixed' });
    assert.equal((await socket.waitForText((m) => m.type === 'status')).data.sid, 'prefixed');
    const accepted = await http(server.url, 'POST', '/api/prompt', JSON.stringify({
      prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } },
      client_id: 'prefixed',
    }));
    await socket.waitForCompletion(accepted.json.prompt_id);
    await socket.close();
  });

  test('unknown routes get 404, wrong methods 405', async () => {
    const missing = await http(server.url, 'GET', '/nothing-here');
    assert.deepEqual([missing.status, missing.text], [404, '404: Not Found']);
    assert.equal((await http(server.url, 'DELETE', '/prompt')).status, 405);
  });

  test('the catalogue has the simulated classes, with the exact seed range and fake models', async () => {
    const response = await http(server.url, 'GET', '/object_info');
    assert.ok(response.text.includes('"max":18446744073709551615'), 'seed max is written exactly');
    for (const name of ['CheckpointLoaderSimple', 'CLIPTextEncode', 'KSampler', 'KSamplerAdvanced', 'SaveImageWebsocket', 'LoadImage', 'ImageScale']) {
      assert.ok(name in response.json, name);
    }
    assert.deepEqual(response.json.CheckpointLoaderSimple.input.required.ckpt_name[0], ['sim-v1.safetensors']);
    assert.deepEqual((await http(server.url, 'GET', '/object_info/NoSuchNode')).json, {});
    assert.deepEqual((await http(server.url, 'GET', '/models/checkpoints')).json, ['sim-v1.safetensors']);
    assert.equal((await http(server.url, 'GET', '/models/nonsense')).status, 404);
  });

  test('a text-to-image workflow from a checkpoint renders the requested size and batch', async () => {
    const { promptId, socket } = await run(server, {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sim-v1.safetensors' } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a castle at sunset', clip: ['4', 1] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 96, height: 64, batch_size: 2 } },
      '3': { class_type: 'KSampler', inputs: { model: ['4', 0], seed: 5, steps: 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], denoise: 1 } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'castle' } },
    }, 't2i');
    const images = (await http(server.url, 'GET', `/history/${promptId}`)).json[promptId].outputs['9'].images;
    assert.deepEqual(images.map((image: { filename: string }) => image.filename), ['castle_00001_.png', 'castle_00002_.png']);
    const [first, second] = await Promise.all(images.map(async (image: { filename: string }) => decodePng((await http(server.url, 'GET', `/view?filename=${image.filename}`)).body)));
    assert.deepEqual([first?.width, first?.height], [96, 64]);
    assert.ok(!Buffer.from(first?.pixels ?? []).equals(Buffer.from(second?.pixels ?? [])), 'batch items differ');
    await socket.close();
  });

  test('history can be listed, paged, deleted and cleared', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { promptId, socket } = await run(server, {
        '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 1000 + i } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      }, `history-${i}`);
      ids.push(promptId);
      await socket.close();
    }
    const last = (await http(server.url, 'GET', '/history?max_items=2')).json;
    assert.deepEqual(Object.keys(last), ids.slice(1));
    const all = Object.keys((await http(server.url, 'GET', '/history')).json);
    const paged = (await http(server.url, 'GET', `/history?max_items=1&offset=${all.indexOf(ids[0] as string)}`)).json;
    assert.deepEqual(Object.keys(paged), [ids[0]]);
    assert.equal((await http(server.url, 'GET', '/history?max_items=many')).status, 500);

    const deleted = await postJson(server.url, '/history', { delete: [ids[0]] });
    assert.deepEqual([deleted.status, deleted.text, deleted.contentType], [200, '', 'application/octet-stream']);
    assert.deepEqual((await http(server.url, 'GET', `/history/${ids[0]}`)).json, {});
    await postJson(server.url, '/history', { clear: true });
    assert.deepEqual((await http(server.url, 'GET', '/history')).json, {});
  });

  test('a client-chosen prompt_id is used', async () => {
    const response = await postJson(server.url, '/prompt', {
      prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 5 } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } },
      prompt_id: 'my-own-id',
    });
    assert.equal(response.json.prompt_id, 'my-own-id');
  });
});

describe('fault-injection hooks', () => {
  const hooks: SimHooks = {};
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 1, hooks });
  });
  after(() => server.close());

  const tiny = (color: number) => ({
    '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'hooked' } },
  });

  test('onRequest can answer instead of the route', async () => {
    hooks.onRequest = ({ path, res }) => {
      if (path !== '/queue') return false;
      res.writeHead(503).end('busy');
      return true;
    };
    assert.equal((await http(server.url, 'GET', '/api/queue')).status, 503);
    assert.equal((await http(server.url, 'GET', '/features')).status, 200);
    delete hooks.onRequest;
  });

  test('onSocketFrame can drop frames', async () => {
    hooks.onSocketFrame = ({ data }) => !(typeof data === 'string' && data.includes('"executed"'));
    const { socket } = await run(server, tiny(1), 'dropper');
    assert.ok(!socket.texts.some((m) => m.type === 'executed'));
    assert.ok(socket.texts.some((m) => m.type === 'execution_success'));
    delete hooks.onSocketFrame;
    await socket.close();
  });

  test('onNodeStart can fail a node at run time', async () => {
    hooks.onNodeStart = ({ classType }) => {
      if (classType === 'SaveImage') throw new NodeError('OSError', '[Errno 28] No space left on device');
    };
    const { promptId, socket } = await run(server, tiny(2), 'failing');
    const error = socket.texts.find((m) => m.type === 'execution_error');
    assert.deepEqual([error.data.node_id, error.data.exception_type, error.data.exception_message], ['2', 'OSError', '[Errno 28] No space left on device\n']);
    assert.deepEqual(error.data.executed, ['1']);
    assert.equal((await http(server.url, 'GET', `/history/${promptId}`)).json[promptId].status.status_str, 'error');
    delete hooks.onNodeStart;
    await socket.close();
  });

  test('onNodeOutput can rewrite what an output node reports', async () => {
    hooks.onNodeOutput = ({ output }) => ({ images: [{ ...(output.images as object[])[0], filename: '../../etc/passwd' }] });
    const { socket } = await run(server, tiny(3), 'hostile');
    assert.equal(socket.texts.find((m) => m.type === 'executed').data.output.images[0].filename, '../../etc/passwd');
    delete hooks.onNodeOutput;
    await socket.close();
  });

  test('onViewFile can replace the streamed body', async () => {
    hooks.onViewFile = ({ size }) => Readable.from([Buffer.alloc(size, 7)]);
    const response = await http(server.url, 'GET', '/view?filename=hooked_00001_.png');
    assert.ok(response.body.every((byte) => byte === 7));
    delete hooks.onViewFile;
  });
});

describe('data directory', () => {
  test('a temporary data dir is removed on close; a given one is kept and numbering continues after a restart', async () => {
    const temporary = await startSim();
    assert.ok(existsSync(join(temporary.dataDir, 'output')));
    await temporary.close();
    assert.ok(!existsSync(temporary.dataDir));

    const dataDir = await mkdtemp(join(tmpdir(), 'pyros-sim-test-'));
    const prompt = {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 9 } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'kept' } },
    };
    for (const client of ['first-life', 'second-life']) {
      const server = await startSim({ dataDir });
      const { socket } = await run(server, prompt, client);
      await socket.close();
      await server.close();
    }
    assert.deepEqual((await readdir(join(dataDir, 'output'))).sort(), ['kept_00001_.png', 'kept_00002_.png']);
    await rm(dataDir, { recursive: true, force: true });
  });
});

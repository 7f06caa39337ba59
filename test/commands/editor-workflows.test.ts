/**
 * Every workflow ComfyUI can save runs: an editor-format file is converted with the server's node
 * definitions (cached on disk, or --object-info offline), an image ComfyUI saved runs its embedded
 * prompt again, and the editor workflow saved with the outputs shows the values that ran.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import { readWorkflowSource } from '../../src/workflow/index.ts';
import { closedPort, jsonEvents, runPyros } from '../support/cli.ts';

const EDITOR = fileURLToPath(new URL('../../examples/txt2img.editor.json', import.meta.url));
const API = fileURLToPath(new URL('../../examples/txt2img.json', import.meta.url));

type EditorNode = { id: number; type: string; widgets_values?: unknown[]; properties?: Record<string, unknown>; inputs?: unknown[] };

async function pngsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.png')).map((name) => join(dir, name));
}

/** The concatenated IDAT chunks: the pixels, whatever the text chunks say. */
function pixels(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

describe('editor-format workflows and saved images', () => {
  const hooks: SimHooks = {};
  let sim: SimServer;
  let root: string;
  let cache: string;
  const objectInfoRequests: string[] = [];

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0, previews: false, hooks });
    root = await mkdtemp(join(tmpdir(), 'pyros-editor-'));
    cache = join(root, 'cache');
    hooks.onRequest = ({ path }) => {
      if (path === '/object_info') objectInfoRequests.push(path);
      return false;
    };
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ PYROS_CACHE: cache });

  it('runs an editor workflow as the editor would queue it, and saves it with the seed and prompt that ran', async () => {
    const out = join(root, 'editor');
    const result = await runPyros(['run', EDITOR, '--server', sim.url, '--seed', '4242', '-p', 'a red fox', '-o', out], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    const [png] = await pngsIn(out);
    assert.ok(png);
    const meta = JSON.parse(await readFile(png.replace(/\.png$/, '.json'), 'utf8'));
    const expected = JSON.parse(await readFile(API, 'utf8'));
    expected['3'].inputs.seed = 4242;
    expected['6'].inputs.text = 'a red fox';
    assert.deepEqual(meta.workflow, expected, 'the converted prompt is the API example, patched');
    const source = await readWorkflowSource(png);
    assert.deepEqual(source.api, expected, 'the PNG carries the prompt that ran');
    const nodes = (source.editor as { nodes: EditorNode[] }).nodes;
    assert.deepEqual(nodes.find((node) => node.type === 'KSampler')?.widgets_values?.slice(0, 2), [4242, 'randomize'], 'the seed is written back into its widget');
    assert.deepEqual(nodes.find((node) => node.id === 6)?.widgets_values, ['a red fox']);
    assert.deepEqual(objectInfoRequests.length, 1, 'the node definitions were read once');

    // Run again: the definitions come from the cache on disk.
    const again = await runPyros(['run', EDITOR, '--server', sim.url, '--seed', '1', '-o', join(root, 'editor-again')], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(objectInfoRequests.length, 1, 'no second /object_info');
    assert.equal((await readdir(join(cache, 'object-info'))).filter((name) => name.startsWith('object-info-')).length, 1);
  });

  it('re-runs an image it saved: the same prompt, the same pixels', async () => {
    const first = join(root, 'image-1');
    assert.equal((await runPyros(['run', EDITOR, '--server', sim.url, '--seed', '77', '-o', first], { env: env() })).code, 0);
    const [png] = await pngsIn(first);
    const second = join(root, 'image-2');
    const result = await runPyros(['run', png as string, '--server', sim.url, '-o', second, '--json'], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    const seeds = jsonEvents(result.stdout).filter((event) => event.event === 'note' && event.kind === 'seed');
    assert.equal(seeds[0]?.value, 77, 'the seed that ran is the seed the image carries');
    const [copy] = await pngsIn(second);
    assert.ok(pixels(await readFile(copy as string)).equals(pixels(await readFile(png as string))));
    // --seed changes it as it changes any workflow.
    const third = join(root, 'image-3');
    assert.equal((await runPyros(['run', png as string, '--server', sim.url, '--seed', '78', '-o', third], { env: env() })).code, 0);
    const [changed] = await pngsIn(third);
    assert.ok(!pixels(await readFile(changed as string)).equals(pixels(await readFile(png as string))));
    const nodes = ((await readWorkflowSource(changed as string)).editor as { nodes: EditorNode[] }).nodes;
    assert.equal(nodes.find((node) => node.type === 'KSampler')?.widgets_values?.[0], 78);
  });

  it('pyros convert prints the prompt, writes it with -o, and works offline with --object-info', async () => {
    const printed = await runPyros(['convert', EDITOR, '--server', sim.url], { env: env() });
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(JSON.parse(printed.stdout), JSON.parse(await readFile(API, 'utf8')));
    const definitions = join(root, 'object_info.json');
    const response = await fetch(`${sim.url}/object_info`);
    await writeFile(definitions, await response.text());
    const file = join(root, 'converted.json');
    const offline = await runPyros(['convert', EDITOR, '--server', `http://127.0.0.1:${await closedPort()}`, '--object-info', definitions, '-o', file, '--verbose']);
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), JSON.parse(await readFile(API, 'utf8')));
    assert.match(offline.stderr, /converted .*txt2img\.editor\.json \(editor format\) into 7 nodes/);
  });

  it('stops before anything is sent when the server lacks node classes, naming each class, its nodes and package', async () => {
    const editor = JSON.parse(await readFile(EDITOR, 'utf8'));
    editor.nodes.push({ id: 20, type: 'FancyUpscale', mode: 0, title: 'Upscale it', inputs: [], outputs: [], properties: { cnr_id: 'comfyui-fancy-nodes' }, widgets_values: [2] });
    const file = join(root, 'custom.json');
    await writeFile(file, JSON.stringify(editor));
    const submitted: string[] = [];
    hooks.onRequest = ({ path, method }) => {
      if (method === 'POST' && path === '/prompt') submitted.push(path);
      return false;
    };
    const result = await runPyros(['run', file, '--server', sim.url, '-o', join(root, 'custom')], { env: env() });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /FancyUpscale: node 20 "Upscale it" — provided by comfyui-fancy-nodes/);
    assert.deepEqual(submitted, []);
  });

  it('refuses bad input with one clear error and exit 2', async () => {
    const editor = JSON.parse(await readFile(EDITOR, 'utf8'));
    // The sampler's latent comes from the decoder, which decodes the sampler's output: a loop.
    const sampler = editor.nodes.find((node: EditorNode) => node.id === 3);
    sampler.inputs.find((input: { name: string }) => input.name === 'latent_image').link = 10;
    const png = (await pngsIn(join(root, 'image-1')))[0] as string;
    const cases: [name: string, content: string | Buffer, message: RegExp][] = [
      ['cut.png', (await readFile(png)).subarray(0, 300), /is a truncated PNG file/],
      ['neither.json', JSON.stringify({ hello: 'world' }), /is JSON but not a ComfyUI workflow/],
      ['cycle.json', JSON.stringify({ ...editor, links: [...editor.links, [10, 8, 0, 3, 3, 'LATENT']] }), /loop/],
    ];
    for (const [name, content, message] of cases) {
      const file = join(root, name);
      await writeFile(file, content);
      const result = await runPyros(['run', file, '--server', sim.url, '-o', join(root, 'bad')], { env: env() });
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, message, name);
      assert.equal(result.stderr.match(/✖/g)?.length ?? 0, 1, `${name}: one error`);
    }
  });
});

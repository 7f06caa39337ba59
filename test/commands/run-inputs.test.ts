import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encode } from 'fast-png';
import { startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import { variableDirsFor } from '../../src/cli/prompt-variables.ts';
import { runPyros } from '../support/cli.ts';

const EXAMPLE = 'examples/txt2img.json';
const COLORS = ['crimson', 'teal', 'ochre', 'violet', 'amber', 'ivory'];

/** The one saved image of a run, its .txt and parsed .json sidecars. */
async function savedRun(dir: string): Promise<{ png: string; text: string; meta: Record<string, any> }> {
  const files = await readdir(dir);
  const png = files.find((f) => f.endsWith('.png'));
  assert.ok(png, `no png in ${files.join(', ')}`);
  const stem = png.slice(0, -4);
  const text = files.includes(`${stem}.txt`) ? await readFile(join(dir, `${stem}.txt`), 'utf8') : '';
  return { png: join(dir, png), text, meta: JSON.parse(await readFile(join(dir, `${stem}.json`), 'utf8')) };
}

function pngBytes(width: number, height: number, rgba: [number, number, number, number]): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(rgba, p * 4);
  return encode({ width, height, data, channels: 4, depth: 8 });
}

describe('pyros run: prompt variables and image inputs', () => {
  const hooks: SimHooks = {};
  let sim: SimServer;
  let root: string;
  let vars: string;

  before(async () => {
    sim = await startSim({ port: 0, stepMs: 0, hooks });
    root = await mkdtemp(join(tmpdir(), 'pyros-run-inputs-'));
    vars = join(root, 'vars');
    await mkdir(vars);
    await writeFile(join(vars, 'color.txt'), `# test colours\n${COLORS.join('\n')}\n`);
    await writeFile(join(vars, 'thing.txt'), 'a __color__ kite\na __color__ boat\n');
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  it('expands variables with the seed: .txt holds the expansion, .json the template and choices', async () => {
    const out = join(root, 'vars-1');
    const args = ['run', EXAMPLE, '--server', sim.url, '--vars', vars, '--prompt', '__thing__ under a __color:2__ sky, seed __seed__', '--seed', '77', '-o', out];
    const result = await runPyros(args);
    assert.equal(result.code, 0, result.stderr);
    const { text, meta } = await savedRun(out);
    assert.match(text, /^a (\w+) (kite|boat) under a teal sky, seed 77\n$/);
    const expanded = text.trimEnd();
    assert.equal(meta.prompt, expanded);
    assert.equal(meta.workflow['6'].inputs.text, expanded);
    assert.equal(meta.prompt_template, '__thing__ under a __color:2__ sky, seed __seed__');
    assert.equal(meta.variables_seed, 77);
    assert.deepEqual(
      meta.variables.map((c: { variable: string }) => c.variable),
      ['thing', 'color', 'color'],
    );
    assert.deepEqual(meta.variables[2], { variable: 'color', index: 2, value: 'teal' });
    assert.ok(result.stderr.includes(`prompt: ${expanded}`), result.stderr);

    // The same seed and template give the same prompt again.
    const again = join(root, 'vars-2');
    const second = await runPyros([...args.slice(0, -1), again]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await savedRun(again)).text, text);
  });

  it('draws a random seed first, then expands with it (__seed__ is the job seed)', async () => {
    const out = join(root, 'vars-random');
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--vars', vars, '--prompt', '__color__ #__seed__', '--seed', 'random', '-o', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const { text, meta } = await savedRun(out);
    assert.equal(text, `${meta.variables[0].value} #${meta.seed}\n`);
    assert.equal(meta.workflow['3'].inputs.seed, meta.seed);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const note = events.find((e) => e.kind === 'prompt_expanded');
    assert.equal(note.text, text.trimEnd());
    assert.equal(note.template, '__color__ #__seed__');
    assert.deepEqual(note.variables, meta.variables);
  });

  it('stops before submitting on an unknown variable, with suggestions', async () => {
    const before = Object.keys((await (await fetch(`${sim.url}/history`)).json()) as object).length;
    const out = join(root, 'vars-unknown');
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--vars', vars, '--prompt', 'a __colour__ fox', '-o', out]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /Unknown variable __colour__/);
    assert.match(result.stderr, /Did you mean __color__/);
    assert.equal(Object.keys((await (await fetch(`${sim.url}/history`)).json()) as object).length, before);
    await assert.rejects(readdir(out));
  });

  it('takes the variables folder from --vars, else PYROS_VARS, else the config file', async () => {
    const other = join(root, 'other-vars');
    await mkdir(other, { recursive: true });
    const env = { XDG_CONFIG_HOME: join(root, 'cfg') };
    assert.equal(variableDirsFor({ vars: vars }, { vars: other }, { ...env, PYROS_VARS: other })[0], vars);
    assert.equal(variableDirsFor({}, { vars: vars }, { ...env, PYROS_VARS: other })[0], other);
    assert.equal(variableDirsFor({}, { vars: vars }, env)[0], vars);
    assert.equal(variableDirsFor({}, {}, env)[0], join(root, 'cfg', 'pyros', 'vars'));
    const missing = await runPyros(['run', EXAMPLE, '--server', sim.url, '--vars', join(root, 'nowhere'), '--prompt', '__color__']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /The variables folder .*nowhere does not exist/);
  });

  it('leaves a prompt without variables untouched and adds no template', async () => {
    const out = join(root, 'plain');
    const result = await runPyros(['run', EXAMPLE, '--server', sim.url, '--vars', vars, '--prompt', 'snake_case stays', '--seed', '1', '-o', out]);
    assert.equal(result.code, 0, result.stderr);
    const { text, meta } = await savedRun(out);
    assert.equal(text, 'snake_case stays\n');
    assert.equal(meta.prompt_template, undefined);
    assert.doesNotMatch(result.stderr, /prompt: /);
  });

  describe('image inputs', () => {
    let workflow: string;
    let photo: string;
    let mask: string;

    before(async () => {
      workflow = join(root, 'mask-flow.json');
      await writeFile(
        workflow,
        JSON.stringify({
          '10': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Load Image' } },
          '11': { class_type: 'LoadImageMask', inputs: { image: 'example.png', channel: 'red' }, _meta: { title: 'Load Mask' } },
          '12': { class_type: 'JoinImageWithAlpha', inputs: { image: ['10', 0], alpha: ['11', 0] } },
          '13': { class_type: 'SaveImage', inputs: { images: ['12', 0], filename_prefix: 'masked' } },
        }),
      );
      photo = join(root, 'photo.png');
      mask = join(root, 'mask.png');
      await writeFile(photo, pngBytes(24, 16, [10, 200, 30, 255]));
      await writeFile(mask, pngBytes(24, 16, [255, 0, 0, 255]));
    });

    it('uploads --input files into the image loaders in node-id order and saves the output', async () => {
      const out = join(root, 'inputs');
      const result = await runPyros(['run', workflow, '--server', sim.url, '--input', photo, '--input', mask, '-o', out]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stderr.includes(`input ${photo} → #10 "Load Image".image (uploaded as photo.png)`), result.stderr);
      assert.ok(result.stderr.includes(`input ${mask} → #11 "Load Mask".image (uploaded as mask.png)`), result.stderr);
      assert.deepEqual((await readdir(join(sim.dataDir, 'input'))).filter((f) => f !== 'example.png' && !f.startsWith('pyros_')).sort(), ['mask.png', 'photo.png']);
      const { png, meta } = await savedRun(out);
      assert.equal(meta.workflow['10'].inputs.image, 'photo.png');
      assert.equal(meta.workflow['11'].inputs.image, 'mask.png');
      assert.deepEqual(
        meta.inputs.map((i: { node_id: string; value: string }) => [i.node_id, i.value]),
        [
          ['10', 'photo.png'],
          ['11', 'mask.png'],
        ],
      );
      // The saved picture has the uploaded size: the server really loaded the file.
      const bytes = await readFile(png);
      assert.equal(bytes.readUInt32BE(16), 24);
      assert.equal(bytes.readUInt32BE(20), 16);
    });

    it('uploads --set NODE.INPUT=@FILE into that exact input (a mask)', async () => {
      const out = join(root, 'set-file');
      const result = await runPyros(['run', workflow, '--server', sim.url, '--set', `Load Mask.image=@${mask}`, '--set', `10.image=@${photo}`, '-o', out, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
      const inputs = events.filter((e) => e.kind === 'input');
      assert.deepEqual(
        inputs.map((e) => [e.node_id, e.input, e.uploaded_as]),
        [
          ['11', 'image', 'mask.png'],
          ['10', 'image', 'photo.png'],
        ],
      );
      const { meta } = await savedRun(out);
      assert.equal(meta.workflow['11'].inputs.image, 'mask.png');
      assert.equal(events.at(-1).ok, true);
    });

    it('sets subfolder/name when the server stores the upload in a subfolder', async () => {
      hooks.onRequest = async ({ method, path, req, res }) => {
        if (method !== 'POST' || path !== '/upload/image') return false;
        for await (const _ of req) {
          // the body is not needed: this server always stores the file as pasted/photo.png
        }
        await mkdir(join(sim.dataDir, 'input', 'pasted'), { recursive: true });
        await writeFile(join(sim.dataDir, 'input', 'pasted', 'photo.png'), await readFile(photo));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'photo.png', subfolder: 'pasted', type: 'input' }));
        return true;
      };
      try {
        const out = join(root, 'subfolder');
        const result = await runPyros(['run', workflow, '--server', sim.url, '--input', photo, '--set', `11.image=@${mask}`, '-o', out]);
        assert.equal(result.code, 0, result.stderr);
        assert.ok(result.stderr.includes(`→ #10 "Load Image".image (uploaded as pasted/photo.png)`), result.stderr);
        const { meta } = await savedRun(out);
        assert.equal(meta.workflow['10'].inputs.image, 'pasted/photo.png');
      } finally {
        delete hooks.onRequest;
      }
    });

    it('refuses a missing file before anything is sent', async () => {
      const uploadsBefore = (await readdir(join(sim.dataDir, 'input'))).length;
      const missing = join(root, 'nope.png');
      for (const args of [
        ['--input', missing],
        ['--set', `Load Mask.image=@${missing}`],
      ]) {
        const result = await runPyros(['run', workflow, '--server', sim.url, '--input', photo, ...args, '-o', join(root, 'missing')]);
        assert.equal(result.code, 2, result.stderr);
        assert.ok(result.stderr.includes(`cannot read ${missing} (no such file)`), result.stderr);
      }
      assert.equal((await readdir(join(sim.dataDir, 'input'))).length, uploadsBefore);
    });

    it('refuses more --input files than image loaders, and a workflow without one', async () => {
      const tooMany = await runPyros(['run', workflow, '--server', sim.url, '--input', photo, '--input', mask, '--input', photo]);
      assert.equal(tooMany.code, 2);
      assert.match(tooMany.stderr, /3 --input files, but the workflow has 2 image loaders/);
      const none = await runPyros(['run', EXAMPLE, '--server', sim.url, '--input', photo]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no image loader/);
      assert.match(none.stderr, /--set NODE\.INPUT=@FILE/);
    });
  });
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveInside } from '../../src/gallery/paths.ts';
import { reproduceCommand, shellQuote } from '../../src/gallery/reproduce.ts';
import { scanOutputs, searchItems } from '../../src/gallery/scan.ts';
import { png, writeOutput } from './fixtures/outputs.ts';

describe('gallery listing', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pyros-gallery-scan-'));
    writeOutput(dir, { name: 'pyros_00001_.png', prompt: 'a lighthouse at dusk', seed: 1, savedAt: '2026-01-01T10:00:00.000Z' });
    writeOutput(dir, { name: 'pyros_00003_.png', prompt: 'a red fox in snow', template: 'a __color__ fox in snow', seed: 3, savedAt: '2026-01-01T12:00:00.000Z' });
    writeOutput(dir, { name: 'pyros_00002_.png', prompt: "it's a whale", seed: 2, savedAt: '2026-01-01T11:00:00.000Z' });
    // A text output with its sidecars, an image without any, and things that are not outputs.
    writeFileSync(join(dir, 'notes_00001_.txt'), 'hello\n');
    writeFileSync(join(dir, 'notes_00001_.txt.prompt.txt'), 'a prompt\n');
    writeFileSync(join(dir, 'notes_00001_.txt.meta.json'), JSON.stringify({ file: 'notes_00001_.txt', prompt: 'a prompt', saved_at: '2026-01-01T09:00:00.000Z' }));
    writeFileSync(join(dir, 'loose.png'), png([0, 0, 0]));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    writeFileSync(join(dir, 'other.json'), '{"file": "missing.png"}');
    writeFileSync(join(dir, '.pyros-tmp-123'), 'partial');
    mkdirSync(join(dir, 'sub'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists outputs newest first with what their sidecars say', async () => {
    const items = await scanOutputs(dir);
    const named = items.filter((item) => item.file !== 'loose.png');
    assert.deepEqual(
      named.map((item) => item.file),
      ['pyros_00003_.png', 'pyros_00002_.png', 'pyros_00001_.png', 'notes_00001_.txt'],
    );
    const fox = items.find((item) => item.file === 'pyros_00003_.png');
    assert.deepEqual(
      { ...fox },
      {
        file: 'pyros_00003_.png',
        url: '/files/pyros_00003_.png',
        kind: 'image',
        bytes: fox?.bytes,
        savedAt: '2026-01-01T12:00:00.000Z',
        sidecar: 'pyros_00003_.json',
        prompt: 'a red fox in snow',
        template: 'a __color__ fox in snow',
        seed: 3,
        server: 'http://127.0.0.1:8188',
        workflowFile: '/home/me/flows/txt2img.json',
        promptId: 'id-pyros_00003_',
        nodeId: '9',
        totalMs: 1234,
        command: "pyros run /home/me/flows/txt2img.json --prompt 'a __color__ fox in snow' --seed 3 --server http://127.0.0.1:8188",
      },
    );
    const whale = items.find((item) => item.file === 'pyros_00002_.png');
    assert.equal(whale?.command, `pyros run /home/me/flows/txt2img.json --prompt 'it'\\''s a whale' --seed 2 --server http://127.0.0.1:8188`);
    const loose = items.find((item) => item.file === 'loose.png');
    assert.equal(loose?.sidecar, undefined);
    assert.equal(loose?.command, undefined);
    assert.equal(items.find((item) => item.file === 'notes_00001_.txt')?.kind, 'text');
    assert.equal(items.length, 5, 'no sidecar, prompt file, temporary file or folder is listed');
  });

  it('searches prompt, template and file name, every word, any case', async () => {
    const items = await scanOutputs(dir);
    assert.deepEqual(searchItems(items, 'FOX snow').map((i) => i.file), ['pyros_00003_.png']);
    assert.deepEqual(searchItems(items, '__color__').map((i) => i.file), ['pyros_00003_.png']);
    assert.deepEqual(searchItems(items, 'pyros_00001').map((i) => i.file), ['pyros_00001_.png']);
    assert.equal(searchItems(items, '  ').length, items.length);
    assert.deepEqual(searchItems(items, 'zebra'), []);
  });
});

describe('reproduce command', () => {
  it('quotes for a POSIX shell', () => {
    assert.equal(shellQuote('plain-word_1.json'), 'plain-word_1.json');
    assert.equal(shellQuote('two words'), "'two words'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('$HOME `x` "y"\nz'), `'$HOME \`x\` "y"\nz'`);
  });

  it('names the workflow, prompt, seed and server it knows', () => {
    assert.equal(reproduceCommand({ workflowFile: '/w/a b.json', prompt: 'x', seed: 5, server: 'https://gpu:8188/comfy' }), "pyros run '/w/a b.json' --prompt x --seed 5 --server https://gpu:8188/comfy");
    assert.equal(reproduceCommand({}), 'pyros run WORKFLOW.json');
  });
});

describe('files a gallery may serve', () => {
  let base = '';
  let root = '';
  before(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'pyros-gallery-paths-')));
    root = join(base, 'images');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'a.png'), 'png');
    writeFileSync(join(root, 'sub', 'b.png'), 'png');
    writeFileSync(join(base, 'secret.txt'), 'secret');
    symlinkSync(join(base, 'secret.txt'), join(root, 'link-out.txt'));
    symlinkSync(join(root, 'a.png'), join(root, 'link-in.png'));
    symlinkSync(base, join(root, 'dir-out'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('resolves files inside the folder, links inside included', async () => {
    assert.deepEqual(await resolveInside(root, 'a.png').then((r) => r.ok && r.path), join(root, 'a.png'));
    assert.deepEqual(await resolveInside(root, 'sub%2Fb.png').then((r) => r.ok && r.path), join(root, 'sub', 'b.png'));
    assert.deepEqual(await resolveInside(root, 'link-in.png').then((r) => r.ok && r.path), join(root, 'a.png'));
  });

  it('refuses anything that leads outside, and does not find what is not a file', async () => {
    const status = async (encoded: string): Promise<number> => {
      const result = await resolveInside(root, encoded);
      return result.ok ? 200 : result.status;
    };
    for (const encoded of ['../secret.txt', '%2e%2e/secret.txt', '%2E%2E%2Fsecret.txt', '..%5csecret.txt', '%2Fetc%2Fpasswd', 'sub/../../secret.txt', 'link-out.txt', 'dir-out/secret.txt', 'a.png%00.txt', 'C:%5Cwindows', './a.png', 'sub//b.png']) {
      assert.equal(await status(encoded), 403, encoded);
    }
    assert.equal(await status('nope.png'), 404);
    assert.equal(await status('sub'), 404);
    assert.equal(await status('%E0%A4%A'), 400);
  });
});

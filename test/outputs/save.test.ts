import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ComfyApi } from '../../src/client/api.ts';
import { parseEndpoint } from '../../src/client/endpoint.ts';
import { PyrosError } from '../../src/errors.ts';
import { saveOutput, type SaveContext } from '../../src/outputs/save.ts';
import { startFileServer, type FileServer } from '../support/files-server.ts';

const image = randomBytes(70_000);
const ref = (filename: string) => ({ nodeId: '9', key: 'images', item: { filename, subfolder: '', type: 'output' } });

describe('saving outputs', () => {
  let server: FileServer;
  let api: ComfyApi;
  let root: string;

  before(async () => {
    server = await startFileServer({
      'ok.png': image,
      '../../escape.png': image,
      '/etc/abs.png': image,
      'cut.png': { truncateTo: 1000, body: image },
      'gone.png': { status: 404 },
    });
    api = new ComfyApi(parseEndpoint(server.url), { idleTimeoutMs: 2000 });
    root = await mkdtemp(join(tmpdir(), 'pyros-save-'));
  });
  after(async () => {
    api.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const context = (dir: string): SaveContext => ({ dir, promptText: 'a red fox', metadata: { prompt_id: 'p1', seed: 42 } });

  it('streams the file byte for byte and writes both sidecars', async () => {
    const dir = join(root, 'basic');
    const saved = await saveOutput(api, ref('ok.png'), context(dir));
    assert.equal(saved.path, join(dir, 'ok.png'));
    assert.deepEqual(await readFile(saved.path), image);
    assert.equal(await readFile(join(dir, 'ok.txt'), 'utf8'), 'a red fox\n');
    const meta = JSON.parse(await readFile(join(dir, 'ok.json'), 'utf8'));
    assert.equal(meta.prompt_id, 'p1');
    assert.equal(meta.seed, 42);
    assert.equal(meta.node_id, '9');
    assert.equal(meta.bytes, image.length);
    assert.deepEqual((await readdir(dir)).sort(), ['ok.json', 'ok.png', 'ok.txt']);
  });

  it('never overwrites: a second save of the same name gets a new name', async () => {
    const dir = join(root, 'twice');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'ok.png'), 'precious');
    const placing: string[] = [];
    const journal = { placing: async (info: { name: string }) => void placing.push(info.name), placed: async () => undefined };
    const saved = await saveOutput(api, ref('ok.png'), { ...context(dir), journal });
    assert.equal(saved.path, join(dir, 'ok-1.png'));
    assert.equal(await readFile(join(dir, 'ok.png'), 'utf8'), 'precious');
    const again = await saveOutput(api, ref('ok.png'), { ...context(dir), journal });
    assert.equal(again.path, join(dir, 'ok-2.png'));
    // The journal hears of the names taken, not of those found in use (each entry costs a sync).
    assert.deepEqual(placing, ['ok-1.png', 'ok-2.png']);
  });

  it('saves of the same name at once take different names, each told to the journal once', async () => {
    const dir = join(root, 'together');
    const count = 4;
    const placing: string[] = [];
    let release!: () => void;
    const allPlacing = new Promise<void>((resolve) => (release = resolve));
    // No save may take its name before every one of them has chosen one.
    const journal = {
      placing: async (info: { name: string }) => {
        placing.push(info.name);
        if (placing.length >= count) release();
        await allPlacing;
      },
      placed: async () => undefined,
    };
    const saved = await Promise.all(Array.from({ length: count }, () => saveOutput(api, ref('ok.png'), { ...context(dir), journal })));
    const names = saved.map((file) => file.path.slice(dir.length + 1)).sort();
    assert.deepEqual(names, ['ok-1.png', 'ok-2.png', 'ok-3.png', 'ok.png']);
    assert.deepEqual([...placing].sort(), names);
    for (const name of names) assert.deepEqual(await readFile(join(dir, name)), image);
  });

  it('keeps hostile server names inside the output folder', async () => {
    const dir = join(root, 'hostile', 'out');
    const a = await saveOutput(api, ref('../../escape.png'), context(dir));
    const b = await saveOutput(api, ref('/etc/abs.png'), context(dir));
    assert.equal(a.path, join(dir, 'escape.png'));
    assert.equal(b.path, join(dir, 'abs.png'));
    assert.deepEqual((await readdir(join(root, 'hostile'))).sort(), ['out']);
  });

  it('fails a cut download and leaves no partial or temporary file', async () => {
    const dir = join(root, 'cut');
    await assert.rejects(saveOutput(api, ref('cut.png'), context(dir)), (error: unknown) => error instanceof PyrosError);
    assert.deepEqual(await readdir(dir), []);
  });

  it('reports a missing file on the server as a typed error', async () => {
    const dir = join(root, 'gone');
    await assert.rejects(saveOutput(api, ref('gone.png'), context(dir)), (error: unknown) => error instanceof PyrosError && /404/.test(error.message));
  });

  it('explains an output folder that cannot be written', { skip: process.getuid?.() === 0 ? 'root ignores folder permissions' : false }, async () => {
    const dir = join(root, 'readonly');
    await mkdir(dir);
    await chmod(dir, 0o500);
    await assert.rejects(saveOutput(api, ref('ok.png'), context(dir)), (error: unknown) => error instanceof PyrosError && error.kind === 'output' && /permission denied/.test(error.message));
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cachedDefinitions, definitionsCachePath } from '../../../src/workflow/editor/index.ts';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pyros-defs-'));
  try {
    await run(join(dir, 'nested', 'cache'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const key = { server: 'http://127.0.0.1:8188', comfyuiVersion: '0.3.64' };

test('fetches once, then reuses the stored definitions for the same server and version', async () => {
  await withDir(async (dir) => {
    let calls = 0;
    const fetch = async () => ({ KSampler: { call: ++calls } });
    assert.deepEqual(await cachedDefinitions(dir, key, fetch), { KSampler: { call: 1 } });
    assert.deepEqual(await cachedDefinitions(dir, key, fetch), { KSampler: { call: 1 } });
    assert.equal(calls, 1);
    assert.deepEqual(await readdir(dir), [definitionsCachePath(dir, key).slice(dir.length + 1)], 'no temporary file left behind');
  });
});

test('another ComfyUI version or server fetches again, beside the first', async () => {
  await withDir(async (dir) => {
    let calls = 0;
    const fetch = async () => ({ call: ++calls });
    await cachedDefinitions(dir, key, fetch);
    assert.deepEqual(await cachedDefinitions(dir, { ...key, comfyuiVersion: '0.3.65' }, fetch), { call: 2 });
    assert.deepEqual(await cachedDefinitions(dir, { ...key, server: 'http://127.0.0.1:8190' }, fetch), { call: 3 });
    assert.deepEqual(await cachedDefinitions(dir, key, fetch), { call: 1 });
    assert.equal((await readdir(dir)).length, 3);
  });
});

test('a damaged cache file is fetched again and replaced', async () => {
  await withDir(async (dir) => {
    await cachedDefinitions(dir, key, async () => ({ call: 1 }));
    const path = definitionsCachePath(dir, key);
    await writeFile(path, '{"key": {"server": "http://127.0.0.1:8188"');
    assert.deepEqual(await cachedDefinitions(dir, key, async () => ({ call: 2 })), { call: 2 });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')).definitions, { call: 2 });
  });
});

test('a fetch that fails stores nothing and passes the error on', async () => {
  await withDir(async (dir) => {
    await assert.rejects(cachedDefinitions(dir, key, async () => { throw new Error('server down'); }), /server down/);
    assert.deepEqual(await cachedDefinitions(dir, key, async () => ({ ok: true })), { ok: true });
  });
});

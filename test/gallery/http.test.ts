/** The gallery server over raw HTTP: routes, content types, refusals, live events. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGallery, type Gallery } from '../../src/gallery/server.ts';
import { writeOutput } from './fixtures/outputs.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends the request line exactly as written (no client-side path normalisation). */
function raw(port: number, path: string, options: { method?: string; host?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(head[0]?.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: all.subarray(split + 4) });
    });
    socket.write(`${options.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: ${options.host ?? `127.0.0.1:${port}`}\r\nConnection: close\r\n\r\n`);
  });
}

/** Reads Server-Sent Events until `until` accepts one. */
function events(port: number, until: (event: { event: string; data: string }) => boolean): { done: Promise<{ event: string; data: string }[]>; close: () => void } {
  const socket = connect(port, '127.0.0.1');
  const seen: { event: string; data: string }[] = [];
  let buffer = '';
  const done = new Promise<{ event: string; data: string }[]>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data !== undefined) {
          seen.push({ event, data });
          if (until({ event, data })) resolve(seen);
        }
      }
    });
  });
  socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return { done, close: () => socket.destroy() };
}

describe('gallery server', () => {
  let base = '';
  let dir = '';
  let gallery: Gallery;
  before(async () => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'pyros-gallery-http-')));
    dir = join(base, 'images');
    mkdirSync(dir);
    writeOutput(dir, { name: 'pyros_00001_.png', prompt: 'a lighthouse', savedAt: '2026-01-01T10:00:00.000Z' });
    writeFileSync(join(base, 'secret.txt'), 'TOP-SECRET');
    symlinkSync(join(base, 'secret.txt'), join(dir, 'escape.txt'));
    gallery = await startGallery({ dir, debounceMs: 20 });
  });
  after(async () => {
    await gallery.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves the page on 127.0.0.1 with a strict content policy', async () => {
    assert.match(gallery.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await raw(gallery.port, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const nonce = /script-src 'nonce-([^']+)'/.exec(page.headers['content-security-policy'] ?? '')?.[1];
    assert.ok(nonce);
    assert.ok(page.body.toString().includes(`<script nonce="${nonce}">`));
  });

  it('lists the outputs as JSON, filtered with ?q=', async () => {
    const list = await raw(gallery.port, '/api/outputs');
    assert.equal(list.headers['content-type'], 'application/json; charset=utf-8');
    const data = JSON.parse(list.body.toString()) as { items: { file: string; prompt: string; command: string }[] };
    assert.deepEqual(
      data.items.map((item) => [item.file, item.prompt]),
      [['pyros_00001_.png', 'a lighthouse']],
    );
    assert.match(data.items[0]?.command ?? '', /^pyros run \/home\/me\/flows\/txt2img\.json --prompt 'a lighthouse' --seed 42/);
    const none = JSON.parse((await raw(gallery.port, '/api/outputs?q=zebra')).body.toString()) as { items: unknown[] };
    assert.deepEqual(none.items, []);
  });

  it('serves files inside the folder with their content type', async () => {
    const image = await raw(gallery.port, '/files/pyros_00001_.png');
    assert.equal(image.status, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.equal(image.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(image.body, readFileSync(join(dir, 'pyros_00001_.png')));
    assert.equal((await raw(gallery.port, '/files/pyros_00001_.txt')).headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await raw(gallery.port, '/files/pyros_00001_.json')).headers['content-type'], 'application/json; charset=utf-8');
    const head = await raw(gallery.port, '/files/pyros_00001_.png', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('refuses every path outside the folder: .., encoded .., absolute, a symlink out', async () => {
    for (const path of ['/files/../secret.txt', '/files/%2e%2e/secret.txt', '/files/%2E%2E%2Fsecret.txt', '/files/..%2f..%2fetc%2fpasswd', '/files/%2Fetc%2Fpasswd', '/files//etc/passwd', '/files/escape.txt']) {
      const response = await raw(gallery.port, path);
      assert.equal(response.status, 403, path);
      assert.ok(!response.body.toString().includes('TOP-SECRET'), `${path} leaked the file`);
    }
    assert.equal((await raw(gallery.port, '/files/missing.png')).status, 404);
    assert.equal((await raw(gallery.port, '/../../etc/passwd')).status, 404);
    assert.equal((await raw(gallery.port, '/files/pyros_00001_.png', { method: 'POST' })).status, 405);
    assert.equal((await raw(gallery.port, '/', { host: 'evil.example' })).status, 403, 'another host name (DNS rebinding)');
    assert.equal((await raw(gallery.port, '/', { host: `localhost:${gallery.port}` })).status, 200);
  });

  it('tells connected pages when an output is saved', async () => {
    const first = JSON.parse((await raw(gallery.port, '/api/outputs')).body.toString()) as { version: number };
    const stream = events(gallery.port, (event) => event.event === 'outputs' && (JSON.parse(event.data) as { count: number }).count === 2);
    try {
      writeOutput(dir, { name: 'pyros_00002_.png', prompt: 'a fox', savedAt: '2026-01-01T11:00:00.000Z' });
      const seen = await stream.done;
      assert.equal(seen[0]?.event, 'outputs', 'the current version comes first');
      const last = JSON.parse(seen.at(-1)?.data ?? '{}') as { version: number; count: number };
      assert.ok(last.version > first.version);
    } finally {
      stream.close();
    }
    const list = JSON.parse((await raw(gallery.port, '/api/outputs')).body.toString()) as { items: { file: string }[] };
    assert.deepEqual(
      list.items.map((item) => item.file),
      ['pyros_00002_.png', 'pyros_00001_.png'],
    );
  });

  it('polls the folder where watching is not wanted', async () => {
    const polled = await startGallery({ dir, pollMs: 30 });
    try {
      assert.equal(polled.mode, 'poll');
      const stream = events(polled.port, (event) => (JSON.parse(event.data) as { count: number }).count === 3);
      writeOutput(dir, { name: 'pyros_00003_.png', prompt: 'a whale', savedAt: '2026-01-01T12:00:00.000Z' });
      await stream.done;
      stream.close();
    } finally {
      await polled.close();
    }
  });

  it('refuses to start on a folder that does not exist', async () => {
    await assert.rejects(startGallery({ dir: join(base, 'nothing-here') }), /No folder .*nothing-here: nothing has been saved there yet\./);
  });
});

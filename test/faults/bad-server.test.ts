/**
 * Bad servers: something that is not ComfyUI, validation errors, 5xx answers, and a WebSocket
 * that sends garbage, unknown messages, truncated or oversize frames.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  answer,
  assertEndState,
  assertNoTempFiles,
  assertSavedIdentical,
  garbageFrames,
  jsonEvents,
  oversizeFrame,
  QUICK_CHECKS,
  runPyros,
  tinyWorkflow,
  useFaultSuite,
} from '../support/faults.ts';

/** A web server that answers every request (the WebSocket upgrade included) with an HTML page. */
async function startHtmlServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const page = '<!doctype html>\n<html><head><title>Welcome to nginx!</title></head><body>It works</body></html>\n';
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
  server.on('upgrade', (_req, socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(page)}\r\nConnection: close\r\n\r\n${page}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('faults: bad servers', () => {
  const suite = useFaultSuite('badserver', { stepMs: 2, workflow: tinyWorkflow({ steps: 4 }) });

  it('an HTML page at the URL: not ComfyUI, exit 3', async () => {
    const html = await startHtmlServer();
    try {
      const result = await runPyros(['run', suite.flow, '--server', html.url, '-o', join(suite.root, 'html')]);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stderr, /The server at http:\/\/127\.0\.0\.1:\d+ does not look like ComfyUI/);
      assert.match(result.stderr, /--server/);
    } finally {
      await html.close();
    }
  });

  it('404 at /prompt: not ComfyUI, exit 3', async () => {
    suite.sim.hooks = answer({ method: 'POST', path: '/prompt' }, 404, '404: Not Found', 'text/plain; charset=utf-8');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '-o', join(suite.root, 'not-found')]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /does not look like ComfyUI: POST \/prompt on http:\/\/127\.0\.0\.1:\d+ answered HTTP 404/);
  });

  it('400 validation errors, printed per node with title, class, message and details: exit 4', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--set', '5.width=0', '--set', 'KSampler.sampler_name=bogus', '-o', join(suite.root, 'rejected')]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /rejected the workflow/);
    assert.match(result.stderr, /node #5 "Empty Latent Image" \(EmptyLatentImage\):\n\s+- Value 0 smaller than min of 16: width\n/);
    // The class is shown when it differs from the title.
    assert.match(result.stderr, /node #3 "KSampler":\n\s+- Value not in list: sampler_name: 'bogus' not in \(list of length \d+\)\n/);
  });

  it('400 validation errors in --json carry the node errors', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--set', '5.width=0', '-o', join(suite.root, 'rejected-json'), '--json']);
    assert.equal(result.code, 4, result.stderr);
    const error = jsonEvents(result.stdout).at(-1) as { kind?: string; node_errors?: Record<string, { class_type: string; errors: { message: string; details: string }[] }> };
    assert.equal(error.kind, 'rejected');
    assert.equal(error.node_errors?.['5']?.class_type, 'EmptyLatentImage');
    assert.match(String(error.node_errors?.['5']?.errors[0]?.details), /width/);
  });

  it('a 5xx answer: the first lines of its body, exit 11', async () => {
    suite.sim.hooks = answer({ method: 'POST', path: '/prompt' }, 500, 'Traceback (most recent call last):\n  File "server.py", line 1\nKeyError: boom\nfourth line is not shown\n');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '-o', join(suite.root, 'five-hundred')]);
    assert.equal(result.code, 11, result.stderr);
    assert.match(result.stderr, /POST \/prompt on http:\/\/127\.0\.0\.1:\d+ failed with HTTP 500: Traceback \(most recent call last\): \| +File "server\.py", line 1 \| KeyError: boom/);
    assert.doesNotMatch(result.stderr, /fourth line/);
  });

  it('a 5xx answer while downloading: exit 11, nothing partial left', async () => {
    suite.sim.hooks = answer({ path: '/view' }, 502, '<html>Bad Gateway</html>', 'text/html');
    const out = join(suite.root, 'bad-gateway');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out]);
    assert.equal(result.code, 11, result.stderr);
    assert.match(result.stderr, /Downloading "fault_\d+_\.png" failed: GET \/view on .* answered HTTP 502/);
    assert.match(result.stderr, /pyros fetch [0-9a-f-]{36}/);
    await assertNoTempFiles(out);
  });

  it('garbage, unknown and truncated WebSocket frames are skipped (logged with --verbose); the job completes', async () => {
    suite.sim.hooks = garbageFrames();
    const out = join(suite.root, 'garbage');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--verbose'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /skipped a malformed frame: not JSON: this is not JSON/);
    assert.match(result.stderr, /skipped a malformed frame: no "type" field/);
    assert.match(result.stderr, /skipped a malformed frame: executing: .*data\.node/);
    assert.match(result.stderr, /skipped a malformed frame: binary frame: binary frame of 2 bytes has no event type/);
    assert.match(result.stderr, /skipped a malformed frame: binary frame: preview-with-metadata frame declares 99 header bytes/);
    assert.match(result.stderr, /skipped a malformed frame: binary frame: text frame declares/);
    assert.match(result.stderr, /skipped a malformed frame: binary frame: preview frame has no image bytes/);
    // Unknown types (text or binary) are ignored, not reported as malformed.
    assert.doesNotMatch(result.stderr, /crystools|event type 77/);
    assert.equal(suite.sim.upgrades.length, 1, 'garbage made the socket reconnect');
    await assertEndState(suite, out);
  });

  it('garbage frames are silent without --verbose', async () => {
    suite.sim.hooks = garbageFrames();
    const out = join(suite.root, 'garbage-quiet');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    await assertSavedIdentical(out, await suite.produced());
  });

  it('an oversize frame makes pyros close the socket; it reconnects and completes', async () => {
    suite.sim.hooks = oversizeFrame();
    const out = join(suite.root, 'oversize');
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--seed', 'random', '-o', out, '--json'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    const reconnect = jsonEvents(result.stdout).find((e) => e.event === 'connection' && e.state === 'reconnecting');
    assert.ok(reconnect, 'no reconnect after the oversize frame');
    assert.match(String(reconnect.reason), /Max payload size exceeded/);
    await assertEndState(suite, out);
  });
});

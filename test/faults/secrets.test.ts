/**
 * Secrets: --header values, COMFYUI_TOKEN (a bearer token) and user:password@ in the URL are sent
 * on every HTTP request and on the WebSocket, and never printed: not in messages, logs, errors,
 * --json events or sidecar files. TLS certificates are verified; --insecure warns.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  answer,
  assertEndState,
  assertSavedIdentical,
  assertSecretsKept,
  closedPort,
  combine,
  dropSocketAfter,
  garbageFrames,
  holdUntilUpgrades,
  jsonEvents,
  QUICK_CHECKS,
  runPyros,
  startTlsProxy,
  tinyWorkflow,
  useFaultSuite,
  type TlsProxy,
} from '../support/faults.ts';

const TOKEN = 'tok-S3cr3t-ABCDEFGH';
const API_KEY = 'hdr-S3cr3t-12345678';
const USER = 'alice';
const PASSWORD = 'pw-S3cr3t-987';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const ALL_SECRETS = [TOKEN, API_KEY, PASSWORD, BASIC];

const TOKEN_ENV = { ...QUICK_CHECKS, COMFYUI_TOKEN: TOKEN };
const HEADER_ARGS = ['--header', `X-Api-Key: ${API_KEY}`];

/** The server demands credentials: the bearer token and the API key, or basic authentication. */
function authorized(headers: IncomingHttpHeaders): boolean {
  const bearer = headers.authorization === `Bearer ${TOKEN}` && headers['x-api-key'] === API_KEY;
  return bearer || headers.authorization === `Basic ${BASIC}`;
}

function requireAuth(): ReturnType<typeof combine> {
  return {
    onRequest: ({ req, res }) => {
      if (authorized(req.headers)) return false;
      res.writeHead(401, { 'content-type': 'text/plain' }).end('401: Unauthorized');
      return true;
    },
    onSocketUpgrade: ({ req, socket }) => {
      if (authorized(req.headers)) return false;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return true;
    },
  };
}

describe('faults: secrets are sent, never printed', () => {
  const suite = useFaultSuite('secrets', { stepMs: 2, workflow: tinyWorkflow({ steps: 4 }), hooks: requireAuth });

  function assertEveryRequestAuthorized(): void {
    assert.ok(suite.sim.requests.length > 0 && suite.sim.upgrades.length > 0);
    for (const request of suite.sim.requests) assert.ok(authorized(request.headers), `${request.method} ${request.path} without credentials`);
    for (const upgrade of suite.sim.upgrades) assert.ok(authorized(upgrade.headers), 'a WebSocket upgrade without credentials');
  }

  for (const mode of ['--json', '--no-color'] as const) {
    it(`--header and COMFYUI_TOKEN go on every request and reconnect, and never out (${mode} --verbose)`, async () => {
      // The decoder waits for the reconnect, so that the credentials of the second upgrade are seen.
      suite.sim.hooks = combine(requireAuth(), dropSocketAfter(3), garbageFrames(), holdUntilUpgrades(suite.sim, 2));
      const out = join(suite.root, `token${mode}`);
      const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, ...HEADER_ARGS, '--seed', 'random', '-o', out, mode, '--verbose'], { env: TOKEN_ENV });
      assert.equal(result.code, 0, result.stderr);
      assertEveryRequestAuthorized();
      assert.ok(suite.sim.upgrades.length >= 2, 'the socket did not reconnect');
      await assertSavedIdentical(out, await suite.produced());
      await assertSecretsKept(result, ALL_SECRETS, out);
    });
  }

  it('user:password@ in the URL becomes basic authentication, and is never shown', async () => {
    const port = new URL(suite.sim.url).port;
    const out = join(suite.root, 'basic');
    const result = await runPyros(['run', suite.flow, '--server', `http://${USER}:${PASSWORD}@127.0.0.1:${port}`, '--seed', 'random', '-o', out, '--json', '--verbose'], { env: QUICK_CHECKS });
    assert.equal(result.code, 0, result.stderr);
    assertEveryRequestAuthorized();
    assert.ok(jsonEvents(result.stdout).some((e) => e.event === 'result' && e.server === `http://127.0.0.1:${port}`));
    await assertSecretsKept(result, [...ALL_SECRETS, `${USER}:`], out);
    await assertSavedIdentical(out, await suite.produced());
  });

  it('a server that echoes the credentials in an error: masked (exit 11)', async () => {
    suite.sim.hooks = combine(
      requireAuth(),
      answer({ method: 'POST', path: '/prompt' }, 500, (req) => `Internal error for ${req.headers.authorization} with key ${String(req.headers['x-api-key'])}\nsecond line\n`),
    );
    for (const mode of ['--json', '--no-color']) {
      const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, ...HEADER_ARGS, '-o', join(suite.root, 'echo'), mode, '--verbose'], { env: TOKEN_ENV });
      assert.equal(result.code, 11, result.stderr);
      assert.match(result.stdout + result.stderr, /Internal error for Bearer \*\*\* with key \*\*\*/);
      await assertSecretsKept(result, ALL_SECRETS);
    }
  });

  it('the credential of an "Authorization: Scheme credential" header is masked on its own too', async () => {
    const credential = 'cred-S3cr3t-4242';
    suite.sim.hooks = answer({ method: 'POST', path: '/prompt' }, 503, `token ${credential} is not valid here`);
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '--header', `Authorization: Token ${credential}`, '-o', join(suite.root, 'scheme'), '--verbose'], { env: QUICK_CHECKS });
    assert.equal(result.code, 11, result.stderr);
    assert.match(result.stderr, /token \*\*\* is not valid here/);
    assert.ok(suite.sim.requests.every((r) => r.headers.authorization === `Token ${credential}`));
    await assertSecretsKept(result, [credential]);
  });

  it('missing credentials: one clear message, exit 3', async () => {
    const result = await runPyros(['run', suite.flow, '--server', suite.sim.url, '-o', join(suite.root, 'anonymous')], { env: QUICK_CHECKS });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /refused with HTTP 401/);
    assert.match(result.stderr, /COMFYUI_TOKEN/);
  });

  it('wrong credentials in a URL that cannot be reached: masked (exit 3)', async () => {
    const port = await closedPort();
    const result = await runPyros(['run', suite.flow, '--server', `http://${USER}:${PASSWORD}@127.0.0.1:${port}`, ...HEADER_ARGS, '-o', join(suite.root, 'refused'), '--verbose'], { env: TOKEN_ENV });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /Cannot connect to ComfyUI at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    await assertSecretsKept(result, [...ALL_SECRETS, `${USER}:`]);
  });
});

describe('faults: TLS', () => {
  const suite = useFaultSuite('tls', { stepMs: 2, workflow: tinyWorkflow({ steps: 4 }) });
  let proxy: TlsProxy | string;

  before(async () => {
    proxy = await startTlsProxy(suite.sim.port, join(suite.root, 'tls'));
  });
  after(async () => {
    if (typeof proxy !== 'string') await proxy.close();
  });

  it('refuses a self-signed certificate by default: exit 3 with a hint', async (t) => {
    if (typeof proxy === 'string') return t.skip(proxy);
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '-o', join(suite.root, 'refused'), '--retry', '2'], { env: TOKEN_ENV });
    assert.equal(result.code, 3, result.stderr);
    assert.doesNotMatch(result.stderr, /resubmitting/, 'a certificate problem was retried');
    assert.match(result.stderr, /TLS certificate check failed for https:\/\/127\.0\.0\.1:\d+: self[- ]signed certificate/);
    assert.match(result.stderr, /--insecure/);
    assert.equal(suite.sim.requests.filter((r) => r.path === '/prompt').length, 0);
    await assertSecretsKept(result, [TOKEN]);
  });

  it('accepts it once its certificate is trusted (NODE_EXTRA_CA_CERTS), verification still on', async (t) => {
    if (typeof proxy === 'string') return t.skip(proxy);
    const out = join(suite.root, 'trusted');
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '--seed', 'random', '-o', out], { env: { ...QUICK_CHECKS, NODE_EXTRA_CA_CERTS: proxy.certPath } });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /--insecure/);
    await assertSavedIdentical(out, await suite.produced());
  });

  it('--insecure skips the check, and says so', async (t) => {
    if (typeof proxy === 'string') return t.skip(proxy);
    const out = join(suite.root, 'insecure');
    const result = await runPyros(['run', suite.flow, '--server', proxy.url, '--insecure', '--seed', 'random', '-o', out, '--json'], { env: TOKEN_ENV });
    assert.equal(result.code, 0, result.stderr);
    const warning = jsonEvents(result.stdout).find((e) => e.event === 'note' && e.kind === 'warning');
    assert.match(String(warning?.message), /--insecure: TLS certificates are not verified/);
    await assertEndState(suite, out);

    const human = await runPyros(['run', suite.flow, '--server', proxy.url, '--insecure', '--seed', 'random', '-o', out], { env: QUICK_CHECKS });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /warning: --insecure: TLS certificates are not verified/);
  });
});

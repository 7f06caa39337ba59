import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecrets, parseEndpoint, routeUrl, webSocketUrl } from '../../src/client/endpoint.ts';
import { PyrosError } from '../../src/errors.ts';

describe('server endpoint', () => {
  it('derives ws from http and wss from https', () => {
    assert.equal(webSocketUrl(parseEndpoint('http://127.0.0.1:8188'), 'abc').href, 'ws://127.0.0.1:8188/ws?clientId=abc');
    assert.equal(webSocketUrl(parseEndpoint('https://comfy.example.com'), 'abc').href, 'wss://comfy.example.com/ws?clientId=abc');
  });

  it('accepts ws and wss URLs as the server and keeps a path prefix', () => {
    const endpoint = parseEndpoint('wss://host.example/comfy');
    assert.equal(endpoint.base.href, 'https://host.example/comfy/');
    assert.equal(routeUrl(endpoint, '/prompt').href, 'https://host.example/comfy/prompt');
    assert.equal(routeUrl(endpoint, 'view', { filename: 'a b.png' }).href, 'https://host.example/comfy/view?filename=a+b.png');
    assert.equal(webSocketUrl(endpoint, 'x').href, 'wss://host.example/comfy/ws?clientId=x');
  });

  it('adds http:// to a bare host:port', () => {
    assert.equal(parseEndpoint('localhost:8188').base.href, 'http://localhost:8188/');
  });

  it('refuses other schemes with a usage error', () => {
    for (const url of ['ftp://host/', 'file:///etc/passwd', 'javascript:alert(1)//x']) {
      assert.throws(
        () => parseEndpoint(url),
        (error: unknown) => error instanceof PyrosError && error.kind === 'usage' && /scheme|not a valid/.test(error.message),
        url,
      );
    }
  });

  it('turns user:password@ into basic auth and never shows it', () => {
    const endpoint = parseEndpoint('https://alice:s3cret-pw@host.example:8443/');
    assert.equal(endpoint.display, 'https://host.example:8443');
    assert.equal(endpoint.headers.authorization, `Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}`);
    assert.ok(!endpoint.base.href.includes('s3cret'));
    const masked = maskSecrets('failed: https://alice:s3cret-pw@host.example:8443/ws with s3cret-pw', endpoint.secrets);
    assert.ok(!masked.includes('s3cret-pw'), masked);
  });

  it('sends a token as a bearer header and masks it', () => {
    const endpoint = parseEndpoint('http://h:1', { token: 'tok-123456', headers: { 'X-Api-Key': 'key-abcdef' } });
    assert.equal(endpoint.headers.authorization, 'Bearer tok-123456');
    assert.equal(endpoint.headers['x-api-key'], 'key-abcdef');
    assert.equal(maskSecrets('a tok-123456 b key-abcdef', endpoint.secrets), 'a *** b ***');
  });
});

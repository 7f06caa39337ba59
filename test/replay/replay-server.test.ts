/**
 * The replay server's own rules, checked with a bare WebSocket and plain HTTP requests so that
 * a bug in the pyros client cannot hide one in the server (or the other way round).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { startReplay, type ReplayServer } from '../support/replay-server.ts';
import { loadRecording, recordedBinaries } from './recorded-facts.ts';

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
  json(): unknown;
}

function request(replay: ReplayServer, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(`${replay.url}${path}`, { method, agent: false, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: bytes, json: () => JSON.parse(bytes.toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

interface Frame {
  text?: { type: string; data: Record<string, unknown> };
  binary?: Buffer;
}

/** A bare WebSocket that keeps every frame and can wait for one. */
class Listener {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<void>;
  private waiting: (() => void)[] = [];

  constructor(replay: ReplayServer, clientId: string) {
    this.ws = new WebSocket(`${replay.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    this.ws.on('message', (raw, isBinary) => {
      const data = raw as Buffer;
      this.frames.push(isBinary ? { binary: data } : { text: JSON.parse(data.toString('utf8')) as Frame['text'] });
      for (const wake of this.waiting.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', () => resolve()));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  async until(predicate: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /**
   * Resolves once a round trip on the socket (ping, pong) brings no new frame: whatever the
   * server was about to send on its own has arrived.
   */
  async settled(): Promise<void> {
    for (;;) {
      const before = this.frames.length;
      await new Promise<void>((resolve) => {
        this.ws.once('pong', () => resolve());
        this.ws.ping();
      });
      if (this.frames.length === before) return;
    }
  }

  texts(type?: string): Record<string, unknown>[] {
    return this.frames.flatMap((f) => (f.text && (type === undefined || f.text.type === type) ? [f.text.data] : []));
  }
}

const isTerminal = (promptId: string) => (frame: Frame) => frame.text?.type === 'executing' && frame.text.data.node === null && frame.text.data.prompt_id === promptId;

async function withReplay(scenario: string, run: (replay: ReplayServer) => Promise<void>, options?: Parameters<typeof startReplay>[1]): Promise<void> {
  const replay = await startReplay(scenario, options);
  try {
    await run(replay);
  } finally {
    await replay.close();
  }
}

describe('replay server', () => {
  it('holds the frames until the client submits, then maps ids into them and into /history', async () => {
    const recordedFrames = loadRecording('a_success').events.filter((e) => e.kind === 'text' && e.socket === 'main').length;
    await withReplay('a_success', async (replay) => {
      const socket = new Listener(replay, 'my-client');
      await socket.opened();
      await socket.settled();
      assert.equal(socket.frames.length, 0, 'nothing is sent before POST /prompt');

      const accepted = await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'my-client', prompt_id: 'my-prompt' });
      assert.deepEqual(accepted.json(), { prompt_id: 'my-prompt', number: 0, node_errors: {} });
      await socket.until(isTerminal('my-prompt'));
      assert.equal(socket.frames.length, recordedFrames);
      assert.equal(socket.texts('status')[0]?.sid, 'my-client');
      const promptIds = new Set(socket.texts().flatMap((data) => (data.prompt_id === undefined ? [] : [data.prompt_id])));
      assert.deepEqual([...promptIds], ['my-prompt']);

      const history = (await request(replay, 'GET', '/history/my-prompt')).json() as Record<string, { prompt: unknown[] }>;
      assert.deepEqual(Object.keys(history), ['my-prompt']);
      assert.equal(history['my-prompt']?.prompt[1], 'my-prompt');
      assert.deepEqual(history['my-prompt']?.prompt[3], { client_id: 'my-client' });
      socket.ws.close();
      await socket.closed;
    });
  });

  it('keeps the recorded prompt id when the client sends none', async () => {
    await withReplay('a_success', async (replay) => {
      const accepted = (await request(replay, 'POST', '/api/prompt', { prompt: {} })).json() as { prompt_id: string };
      assert.equal(accepted.prompt_id, '20e28e2a-1296-402a-b988-e13d22b6fc43');
    });
  });

  it('derives /queue and /history from the playback: pending, deleted, interrupted', async () => {
    await withReplay('e_interrupt', async (replay) => {
      const socket = new Listener(replay, 'c');
      await socket.opened();
      await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'c', prompt_id: 'running' });
      await request(replay, 'POST', '/prompt', { prompt: { 9: {} }, client_id: 'c', prompt_id: 'pending' });
      await socket.until((f) => f.text?.type === 'progress' && f.text.data.value === 3);
      await socket.settled();
      assert.equal(socket.texts('execution_interrupted').length, 0, 'the interrupt frames wait for POST /interrupt');

      const queue = (await request(replay, 'GET', '/queue')).json() as { queue_running: unknown[][]; queue_pending: unknown[][] };
      assert.deepEqual([queue.queue_running.map((e) => e[1]), queue.queue_pending.map((e) => e[1])], [['running'], ['pending']]);
      assert.deepEqual(queue.queue_pending[0]?.[3], { client_id: 'c' });
      assert.deepEqual((await request(replay, 'GET', '/history/running')).json(), {}, 'not finished yet');

      const deleted = await request(replay, 'POST', '/queue', { delete: ['pending'] });
      assert.deepEqual([deleted.status, deleted.contentType, deleted.body.length], [200, 'application/octet-stream', 0]);
      const after = (await request(replay, 'GET', '/api/queue')).json() as { queue_running: unknown[][]; queue_pending: unknown[][] };
      assert.deepEqual([after.queue_running.map((e) => e[1]), after.queue_pending.length], [['running'], 0]);

      await request(replay, 'POST', '/interrupt', { prompt_id: 'running' });
      await socket.until(isTerminal('running'));
      assert.equal(socket.texts('execution_interrupted')[0]?.prompt_id, 'running');
      const history = (await request(replay, 'GET', '/history/running')).json() as Record<string, { status: { status_str: string } }>;
      assert.equal(history.running?.status.status_str, 'error');
      assert.deepEqual((await request(replay, 'GET', '/history/pending')).json(), {});
      assert.deepEqual((await request(replay, 'GET', '/queue')).json(), { queue_running: [], queue_pending: [] });
      socket.ws.close();
      await socket.closed;
    });
  });

  it('rewrites the prompt id inside type-4 preview metadata and keeps the image bytes', async () => {
    const recorded = recordedBinaries(loadRecording('g2_previews_with_metadata'));
    await withReplay('g2_previews_with_metadata', async (replay) => {
      const socket = new Listener(replay, 'c');
      await socket.opened();
      await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'c', prompt_id: 'short-id' });
      await socket.until(isTerminal('short-id'));
      const binaries = socket.frames.flatMap((f) => (f.binary ? [f.binary] : []));
      assert.equal(binaries.length, recorded.length);
      binaries.forEach((frame, i) => {
        const original = recorded[i]?.bytes;
        assert.ok(original);
        const length = frame.readUInt32BE(4);
        const metadata = JSON.parse(frame.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
        assert.equal(frame.readUInt32BE(0), 4);
        assert.equal(metadata.prompt_id, 'short-id');
        assert.ok(frame.subarray(8 + length).equals(original.subarray(8 + original.readUInt32BE(4))), 'image bytes unchanged');
      });
      socket.ws.close();
      await socket.closed;
    });
  });

  it('drops the socket where the recorder did and resumes on the reconnection', async () => {
    await withReplay('j_reconnect', async (replay) => {
      const first = new Listener(replay, 'c');
      await first.opened();
      await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'c', prompt_id: 'p' });
      await first.closed;
      assert.deepEqual(first.texts('progress').map((p) => p.value), [1, 2, 3]);

      const second = new Listener(replay, 'c');
      await second.opened();
      await second.until(isTerminal('p'));
      assert.deepEqual(second.texts()[1], { node: '4' }, 'the reconnect variant of executing, as recorded');
      assert.deepEqual(second.texts('progress').map((p) => p.value), Array.from({ length: 16 }, (_, i) => i + 15));
      assert.deepEqual(replay.connections, ['/ws?clientId=c', '/ws?clientId=c']);
      second.ws.close();
      await second.closed;
    });
  });

  it('plays another recorded socket on request', async () => {
    await withReplay(
      'k_observer',
      async (replay) => {
        const socket = new Listener(replay, 'watcher');
        await socket.opened();
        await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'someone-else', prompt_id: 'p' });
        await socket.until((f) => f.binary !== undefined);
        await socket.until((f) => f.text?.type === 'status' && (f.text.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0 && f.text.data.sid === undefined);
        assert.equal(socket.frames.filter((f) => f.text).length, socket.texts('status').length, 'only status frames');
        assert.equal(socket.texts('status')[0]?.sid, 'watcher');
        socket.ws.close();
        await socket.closed;
      },
      { socket: 'observer' },
    );
  });

  it('answers 404 to what the recording does not know and lists it', async () => {
    await withReplay('z_endpoints', async (replay) => {
      assert.equal((await request(replay, 'GET', '/nothing/here')).status, 404);
      assert.equal((await request(replay, 'POST', '/prompt', { prompt: {} })).status, 404, 'no recorded submission to replay');
      assert.equal((await request(replay, 'GET', '/object_info/KSampler')).status, 200);
      assert.deepEqual(
        replay.unmatched.map((r) => `${r.method} ${r.path}`),
        ['GET /nothing/here', 'POST /prompt'],
      );
      assert.equal(replay.requests.length, 3);
    });
  });

  it('at speed > 0 keeps the recorded gaps between frames', async () => {
    // f_two_jobs: job 1's terminal frame was recorded ~468 ms after the second POST /prompt.
    await withReplay(
      'f_two_jobs',
      async (replay) => {
        const socket = new Listener(replay, 'c');
        await socket.opened();
        await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'c', prompt_id: 'one' });
        const start = Date.now();
        await request(replay, 'POST', '/prompt', { prompt: {}, client_id: 'c', prompt_id: 'two' });
        await socket.until(isTerminal('one'));
        const elapsed = Date.now() - start;
        assert.ok(elapsed >= 468 / 4 - 15, `took ${elapsed} ms at speed 4`);
        socket.ws.close();
        await socket.closed;
      },
      { speed: 4 },
    );
  });

  it('refuses a socket name the recording does not have', async () => {
    await assert.rejects(startReplay('a_success', { socket: 'nope' }), /no recorded socket "nope"/);
  });
});

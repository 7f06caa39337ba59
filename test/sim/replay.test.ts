/**
 * Replays the whole recorded session of test/fixtures/traffic against one simulator, in the
 * order it was recorded (so prompt numbers and the cache state line up), performing each
 * recorded client action and comparing every WebSocket frame and HTTP response with what the
 * real ComfyUI sent. Normalised: timestamps, the random letters of temp file names, the order
 * of Python sets, and the number of progress ticks where the recorder acted on a timer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import { decodePng } from '../../src/sim/imaging/png.ts';
import { startSim, type SimServer } from '../../src/sim/index.ts';
import { http, multipartBody, readRecording, readWorkflow, TestSocket, type HttpResult, type RecordedLine, type WireFrame } from './helpers.ts';

const SESSION = [
  'a_success',
  'b_cached',
  'c_invalid',
  'd_execution_error',
  'g_progress_previews',
  'g2_previews_with_metadata',
  'g3_model_free_progress',
  'e_interrupt',
  'e2_interrupt_global',
  'f_two_jobs',
  'h_preview_and_batch',
  'i_websocket_image_save',
  'j_reconnect',
  'k_observer',
  'l_upload_image',
  'm_no_client_id',
  'z_endpoints',
];

/** The recorder acted on timers here, so the number of progress ticks seen varies. */
const TICK_COUNT_VARIES = new Set(['e_interrupt', 'e2_interrupt_global', 'j_reconnect']);
/**
 * Two prompts in flight: when the second one's "queued" `status` arrives among the first one's
 * frames depends on timing (README "Ordering", point 2). Statuses are compared on their own.
 */
const STATUS_INTERLEAVING_VARIES = new Set(['e_interrupt', 'f_two_jobs']);
/** Files made without a sampler: the simulator's pixels must equal ComfyUI's exactly. */
const PIXEL_EXACT = /^(pyros_fixture_a_|pyros_fixture_f_job2_|ComfyUI_temp_|batch_|pyros_fixture_l_)/;

type Comparable = { json: unknown } | { binary: number; header: string };

function normalise(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return value.replace(/ComfyUI_temp_[a-z]{5}_/g, 'ComfyUI_temp_?????_');
  if (Array.isArray(value)) {
    const items = value.map((item) => normalise(item));
    // Python sets in ComfyUI's messages: their order is arbitrary.
    return key === 'executed' || key === 'current_outputs' ? items.sort() : items;
  }
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'timestamp' ? 0 : normalise(v, k)]));
}

function fromRecording(line: RecordedLine): Comparable {
  return line.binary ? { binary: line.event_type as number, header: line.header_hex as string } : { json: normalise(line.json) };
}

function fromWire(frame: WireFrame): Comparable {
  return frame.text ? { json: normalise(frame.json) } : { binary: frame.bytes.readUInt32BE(0), header: frame.bytes.subarray(0, 8).toString('hex') };
}

/** A progress tick: its progress_state, progress and preview frames. */
function isTick(frame: Comparable): boolean {
  if ('binary' in frame) return frame.binary === 1 || frame.binary === 4;
  const message = frame.json as { type: string; data: any };
  if (message.type === 'progress') return true;
  if (message.type !== 'progress_state') return false;
  return Object.values(message.data.nodes as Record<string, { state: string; value: number }>).some((node) => node.state === 'running' && node.value > 0);
}

function multipart(line: RecordedLine): { body: Buffer; contentType: string } {
  const { fields, files } = line.multipart as { fields: Record<string, string>; files: any[] };
  return multipartBody(
    fields,
    files.map((file) => ({ field: file.field, filename: file.filename, contentType: file.content_type, data: Buffer.from(file.base64, 'base64') })),
  );
}

function pathWithQuery(line: RecordedLine, rename: (text: string) => string = (text) => text): string {
  const query = line.query ? `?${new URLSearchParams(line.query as Record<string, string>).toString()}` : '';
  return rename(`${line.path}${query}`);
}

function compareImage(request: RecordedLine, ours: HttpResult, recorded: RecordedLine): void {
  assert.equal(normalise(ours.headers.get('content-disposition')), normalise(recorded.content_disposition));
  const theirs = Buffer.from(recorded.base64 as string, 'base64');
  if (request.query?.type === 'input') {
    assert.equal(createHash('sha256').update(ours.body).digest('hex'), recorded.sha256, 'an uploaded file is served byte for byte');
    return;
  }
  const image = decodePng(ours.body);
  assert.deepEqual([image.width, image.height], [recorded.image.width, recorded.image.height]);
  if (!PIXEL_EXACT.test(String(request.query?.filename)) || recorded.truncated) return;
  const expected = decodePng(theirs);
  assert.equal(image.channels, expected.channels);
  assert.ok(Buffer.from(image.pixels).equals(Buffer.from(expected.pixels)), `pixels of ${request.query?.filename} match ComfyUI's`);
  assert.deepEqual(decode(ours.body).text, decode(theirs).text, 'PNG metadata (the prompt) matches');
}

function compareResponse(request: RecordedLine, ours: HttpResult, recorded: RecordedLine): void {
  const what = `${request.method} ${pathWithQuery(request)}`;
  assert.equal(ours.status, recorded.status, `${what}: status`);
  assert.equal(ours.contentType, recorded.content_type, `${what}: content type`);
  if (recorded.json_omitted) {
    assert.ok(ours.json && typeof ours.json === 'object' && 'KSampler' in ours.json, `${what}: the node catalogue`);
  } else if (request.path.endsWith('/system_stats')) {
    assert.deepEqual(Object.keys(ours.json.system).sort(), Object.keys(recorded.json.system).sort());
    assert.deepEqual(Object.keys(ours.json.devices[0]).sort(), Object.keys(recorded.json.devices[0]).sort());
  } else if ('json' in recorded) {
    assert.deepEqual(normalise(ours.json), normalise(recorded.json), `${what}: body`);
  } else if ('text' in recorded) {
    assert.equal(ours.text, recorded.text, `${what}: body`);
  } else if (recorded.image) {
    compareImage(request, ours, recorded);
  }
}

/** `rename` maps the recording's random temp file names to ours. */
async function perform(server: SimServer, request: RecordedLine, response: RecordedLine, rename: (text: string) => string): Promise<HttpResult> {
  if (request.multipart) {
    const { body, contentType } = multipart(request);
    return http(server.url, request.method, pathWithQuery(request), body, { 'Content-Type': contentType });
  }
  let body: string | undefined;
  if (request.raw_body !== undefined) body = request.raw_body as string;
  else if (request.json !== undefined) {
    // The server chose these prompt ids; sending them back makes every later frame comparable.
    const promptId = request.path === '/prompt' && response.status === 200 ? response.json.prompt_id : undefined;
    body = JSON.stringify(promptId ? { ...request.json, prompt_id: promptId } : request.json);
  }
  return http(server.url, request.method, pathWithQuery(request, rename), body);
}

async function replay(server: SimServer, scenario: string): Promise<void> {
  const lines = readRecording(scenario);
  const expected = new Map<string, RecordedLine[]>();
  const responses = new Map<number, RecordedLine>();
  for (const line of lines) {
    if (line.kind === 'ws_recv') expected.set(line.socket, [...(expected.get(line.socket) ?? []), line]);
    if (line.kind === 'http_response') responses.set(line.id, line);
  }
  const sockets = new Map<string, TestSocket>();
  const closed = new Set<string>();
  const varies = TICK_COUNT_VARIES.has(scenario);
  const framesFor = (socket: string): Comparable[] => (sockets.get(socket)?.frames ?? []).map(fromWire);
  const rename = (text: string): string => {
    const ours = [...sockets.values()].flatMap((socket) => socket.texts.map((message) => JSON.stringify(message)));
    const letters = /ComfyUI_temp_([a-z]{5})_/.exec(ours.join(''))?.[1];
    return letters ? text.replace(/ComfyUI_temp_[a-z]{5}_/g, `ComfyUI_temp_${letters}_`) : text;
  };

  /**
   * Waits until every open socket is where the recording was before `seq`: as many frames, or
   * (where tick counts vary) as many non-tick frames and at least one tick if it had seen some.
   */
  const catchUp = async (seq: number): Promise<void> => {
    for (const [name, socket] of sockets) {
      if (closed.has(name)) continue;
      const before = (expected.get(name) ?? []).filter((line) => line.seq < seq).map(fromRecording);
      if (!varies) {
        await socket.waitForCount(before.length);
        continue;
      }
      const steady = before.filter((frame) => !isTick(frame)).length;
      const ticked = before.some(isTick);
      await socket.waitUntil(
        () => {
          const ours = framesFor(name);
          return ours.filter((frame) => !isTick(frame)).length >= steady && (!ticked || ours.some(isTick)) ? true : undefined;
        },
        5000,
        `socket ${name} to reach seq ${seq}`,
      );
    }
  };

  for (const line of lines) {
    if (line.kind === 'ws_connect') {
      await catchUp(line.seq);
      sockets.set(line.socket, await TestSocket.open(server.url, undefined, { path: line.path }));
    } else if (line.kind === 'ws_send') {
      sockets.get(line.socket)?.send(line.json);
    } else if (line.kind === 'ws_client_close') {
      await catchUp(line.seq);
      closed.add(line.socket);
      await sockets.get(line.socket)?.close();
    } else if (line.kind === 'http_request') {
      await catchUp(line.seq);
      const response = responses.get(line.id) as RecordedLine;
      compareResponse(line, await perform(server, line, response, rename), response);
    }
  }

  for (const [name, socket] of sockets) {
    const recorded = (expected.get(name) ?? []).map(fromRecording);
    const wanted = varies ? recorded.filter((frame) => !isTick(frame)) : recorded;
    if (!closed.has(name)) {
      await socket.waitUntil(
        () => ((varies ? framesFor(name).filter((frame) => !isTick(frame)) : framesFor(name)).length >= wanted.length ? true : undefined),
        5000,
        `${wanted.length} frames on socket ${name}`,
      );
    }
    const ours = varies ? framesFor(name).filter((frame) => !isTick(frame)) : framesFor(name);
    if (STATUS_INTERLEAVING_VARIES.has(scenario)) {
      const isStatus = (frame: Comparable): boolean => 'json' in frame && (frame.json as { type: string }).type === 'status';
      assert.deepEqual(ours.filter(isStatus), wanted.filter(isStatus), `status frames on socket "${name}"`);
      assert.deepEqual(ours.filter((frame) => !isStatus(frame)), wanted.filter((frame) => !isStatus(frame)), `other frames on socket "${name}"`);
    } else {
      assert.deepEqual(ours, wanted, `frames on socket "${name}"`);
    }
    if (varies) assert.ok(framesFor(name).some(isTick), `socket "${name}" saw progress ticks`);
    await socket.close();
  }
}

/** g3 uses nodes the simulator does not have; a stand-in prompt takes its number and cache slot. */
async function standIn(server: SimServer): Promise<void> {
  const socket = await TestSocket.open(server.url, 'stand-in');
  const prompt = readWorkflow('a_success');
  prompt['1'].inputs.color = 0x808080;
  const submitted = await http(server.url, 'POST', '/prompt', JSON.stringify({ prompt, client_id: 'stand-in' }));
  assert.equal(submitted.json.number, 14);
  await socket.waitForCompletion(submitted.json.prompt_id);
  await socket.close();
}

describe('replay of the recorded ComfyUI session', () => {
  let server: SimServer;
  before(async () => {
    server = await startSim({ stepMs: 4 });
  });
  after(() => server.close());

  for (const scenario of SESSION) {
    test(scenario, async () => {
      if (scenario === 'g3_model_free_progress') await standIn(server);
      else await replay(server, scenario);
    });
  }
});

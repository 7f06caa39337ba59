/**
 * The fault toolkit: a simulator whose hooks the test can switch at any time (and that records
 * every request and WebSocket upgrade), the suite fixture that sets it up, ready-made faults, a CLI
 * runner the test can signal while it runs, and the end-state checks every fault test makes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { startSim, type SimHooks, type SimServer } from '../../src/sim/index.ts';
import type { CliResult } from './cli.ts';
import { until } from './wait.ts';

export { closedPort, isolatedEnv, jsonEvents, runPyros, startPyros, type RunningPyros } from './cli.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export interface FaultSim {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Switch faults on and off by assigning hooks here; they are read on every call. */
  hooks: SimHooks;
  readonly requests: RecordedRequest[];
  readonly upgrades: { clientId: string; headers: IncomingHttpHeaders }[];
  /** The server's log lines (e.g. "Interrupting prompt ID", "Global interrupt (no prompt_id specified)"). */
  readonly logs: string[];
  /** Restarts the server on the same port and data folder: files stay, queue and history are gone. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops answering, like a hung process (see SimServer.freeze); `thaw()` answers again. */
  freeze(): void;
  thaw(): void;
  /** Stops the server (the port stays free until `start()`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultSim(options: { stepMs?: number; previews?: boolean; dataDir?: string } = {}): Promise<FaultSim> {
  const requests: RecordedRequest[] = [];
  const upgrades: FaultSim['upgrades'] = [];
  const logs: string[] = [];
  const log = (line: string): void => {
    logs.push(line);
  };
  const state: { hooks: SimHooks } = { hooks: {} };
  const wrapper: SimHooks = {
    onRequest: (request) => {
      requests.push({ method: request.method, path: request.path, query: request.query, headers: request.req.headers });
      return state.hooks.onRequest?.(request) ?? false;
    },
    onSocketUpgrade: (upgrade) => {
      upgrades.push({ clientId: upgrade.clientId, headers: upgrade.req.headers });
      return state.hooks.onSocketUpgrade?.(upgrade) ?? false;
    },
    onSocketOpen: (socket) => state.hooks.onSocketOpen?.(socket),
    onSocketFrame: (frame) => state.hooks.onSocketFrame?.(frame) ?? true,
    onViewFile: (file) => state.hooks.onViewFile?.(file),
    onNodeStart: (node) => state.hooks.onNodeStart?.(node),
    onNodeOutput: (node) => state.hooks.onNodeOutput?.(node),
  };
  // A folder of its own (not the simulator's, which it removes when it stops): files outlive a restart.
  const ownDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'pyros-fault-sim-')) : undefined;
  const first = await startSim({ port: 0, stepMs: options.stepMs ?? 1, previews: options.previews ?? true, dataDir: options.dataDir ?? ownDir, hooks: wrapper, log });
  const port = first.port;
  const dataDir = first.dataDir;
  let sim: SimServer | undefined = first;
  const start = async (): Promise<void> => {
    sim ??= await startSim({ port, stepMs: options.stepMs ?? 1, previews: options.previews ?? true, dataDir, hooks: wrapper, log });
  };
  const stop = async (): Promise<void> => {
    const current = sim;
    sim = undefined;
    await current?.close();
  };
  return {
    url: first.url,
    port,
    dataDir,
    get hooks() {
      return state.hooks;
    },
    set hooks(hooks: SimHooks) {
      state.hooks = hooks;
    },
    requests,
    upgrades,
    logs,
    stop,
    start,
    freeze: () => sim?.freeze(),
    thaw: () => sim?.thaw(),
    async restart(restartOptions = {}) {
      await stop();
      if (restartOptions.downMs) await sleep(restartOptions.downMs);
      await start();
    },
    async close() {
      await stop();
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The suite fixture.

export interface FaultSuite {
  /** The suite's simulator: started once; before each test its hooks are reset to the suite's and its records cleared. */
  readonly sim: FaultSim;
  /** A temporary folder for the suite's files (removed afterwards). */
  readonly root: string;
  /** The path of the suite's workflow file, in `root`. */
  readonly flow: string;
  /** The files the server has written since the current test began. */
  produced(): Promise<Map<string, Buffer>>;
}

export interface FaultSuiteOptions {
  stepMs?: number;
  previews?: boolean;
  /** The suite's workflow (default `tinyWorkflow()`). */
  workflow?: ApiWorkflow;
  /** Its file name in `root` (default flow.json). */
  flowName?: string;
  /** The hooks every test starts with (default none). */
  hooks?: () => SimHooks;
}

/**
 * Registers what every fault suite needs (call it inside `describe`): before all tests, a fault
 * simulator, a temporary `root` named after `name` and the workflow written in it; before each
 * test, the simulator's hooks reset and its requests, upgrades and logs cleared, and a note of the
 * outputs it already has; after all tests, the simulator closed and `root` removed. The suite's
 * fields can be read from the first test on (its own hooks included).
 */
export function useFaultSuite(name: string, options: FaultSuiteOptions = {}): FaultSuite {
  const state: { sim?: FaultSim; root?: string; flow?: string; mark?: Map<string, Buffer> } = {};
  const get = <K extends keyof typeof state>(key: K): NonNullable<(typeof state)[K]> => {
    const value = state[key];
    if (value === undefined) throw new Error(`the fault suite's ${key} is set in its before hooks: use it in a test`);
    return value;
  };
  before(async () => {
    state.sim = await startFaultSim({ stepMs: options.stepMs, previews: options.previews });
    state.root = await mkdtemp(join(tmpdir(), `pyros-${name}-`));
    state.flow = await writeWorkflow(state.root, options.flowName ?? 'flow.json', options.workflow ?? tinyWorkflow());
  });
  beforeEach(async () => {
    const sim = get('sim');
    sim.hooks = options.hooks?.() ?? {};
    sim.requests.length = 0;
    sim.upgrades.length = 0;
    sim.logs.length = 0;
    state.mark = await serverOutputs(sim);
  });
  after(async () => {
    await state.sim?.close();
    if (state.root) await rm(state.root, { recursive: true, force: true });
  });
  return {
    get sim() {
      return get('sim');
    },
    get root() {
      return get('root');
    },
    get flow() {
      return get('flow');
    },
    produced: () => serverOutputs(get('sim'), get('mark')),
  };
}

// ---------------------------------------------------------------------------------------------
// Ready-made faults (each returns hooks to assign, or to merge with others).

function frameType(data: string | Buffer, binary: boolean): string | undefined {
  if (binary) return undefined;
  try {
    return (JSON.parse(String(data)) as { type?: string }).type;
  } catch {
    return undefined;
  }
}

/** Cuts the WebSocket (TCP reset, no close frame) before the `n`-th frame of a run's messages, `times` times. */
export function dropSocketAfter(n: number, options: { times?: number; onDrop?: () => void } = {}): SimHooks {
  let left = options.times ?? 1;
  const sent = new WeakMap<WebSocket, number>();
  return {
    onSocketFrame: ({ socket, data, binary }) => {
      if (left <= 0) return true;
      // Count from the first frame of a run, so that connection chatter does not matter.
      const count = sent.get(socket) ?? (frameType(data, binary) === 'execution_start' ? 0 : undefined);
      if (count === undefined) return true;
      if (count >= n) {
        left -= 1;
        socket.terminate();
        options.onDrop?.();
        return false;
      }
      sent.set(socket, count + 1);
      return true;
    },
  };
}

/** Answers every WebSocket upgrade with an HTTP status (401, 403, 404…) while `when()` holds. */
export function refuseUpgrades(status: number, when: () => boolean = () => true): SimHooks {
  return {
    onSocketUpgrade: ({ socket }) => {
      if (!when()) return false;
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused`);
      return true;
    },
  };
}

/** Accepts each WebSocket and closes it at once (after its first frame) while `when()` holds. */
export function closeAtOnce(when: () => boolean = () => true): SimHooks {
  return {
    onSocketOpen: ({ socket }) => {
      if (when()) socket.close(1011, 'going away');
    },
  };
}

/** Serves the first `bytes` bytes of every /view download, then sends nothing more (the connection stays open). */
export function stallView(bytes: number): SimHooks {
  return {
    onViewFile: ({ path }) => {
      const stream = new Readable({ read() {} });
      readFile(path).then((data) => stream.push(data.subarray(0, bytes)), (error: Error) => stream.destroy(error));
      return stream;
    },
  };
}

/**
 * Answers the requests to `route` itself (every method unless one is named) with HTTP `status` and
 * `body` (or the body made from the request, for a server that echoes it); other requests pass.
 */
export function answer(
  route: { method?: string; path: string },
  status: number,
  body: string | ((req: IncomingMessage) => string),
  contentType = 'text/plain',
): SimHooks {
  return {
    onRequest: ({ method, path, req, res }) => {
      if (path !== route.path || (route.method !== undefined && method !== route.method)) return false;
      res.writeHead(status, { 'content-type': contentType }).end(typeof body === 'string' ? body : body(req));
      return true;
    },
  };
}

/** Holds node `nodeId` each time it starts until `release` opens; `reached`, when given, opens as it is held. */
export function holdNode(nodeId: string, release: Gate, reached?: Gate): SimHooks {
  return {
    onNodeStart: async (node) => {
      if (node.nodeId !== nodeId) return;
      reached?.open();
      await release.wait();
    },
  };
}

/**
 * Opens `release` once the server has acted on a POST /interrupt (its log says so), so that a node
 * held by `release` goes on to find the interrupt raised, however slowly the request's body came.
 */
export function openOnInterrupt(sim: Pick<FaultSim, 'logs'>, release: Gate): SimHooks {
  return {
    onRequest: ({ path }) => {
      if (path === '/interrupt') {
        const seen = sim.logs.length;
        const open = (): void => release.open();
        until(() => sim.logs.slice(seen).some((line) => /^(Interrupting prompt|Global interrupt|Prompt \S+ is not currently running)/.test(line)), undefined, 'the interrupt').then(open, open);
      }
      return false;
    },
  };
}

/** Holds the run before its decoder (node 8) until the server has seen `count` WebSocket upgrades. */
export function holdUntilUpgrades(sim: Pick<FaultSim, 'upgrades'>, count: number): SimHooks {
  return {
    onNodeStart: async ({ nodeId }) => {
      if (nodeId !== '8') return;
      while (sim.upgrades.length < count) await sleep(10);
    },
  };
}

/** The frames a broken proxy or a buggy server might send. */
export const GARBAGE_FRAMES: { data: string | Buffer; binary: boolean; what: string }[] = [
  { data: 'this is not JSON {', binary: false, what: 'text that is not JSON' },
  { data: '[1,2,3]', binary: false, what: 'JSON without a type' },
  { data: '{"type":"executing","data":{"node":42}}', binary: false, what: 'a known type with a malformed body' },
  { data: '{"type":"crystools.monitor","data":{"cpu":3}}', binary: false, what: 'an unknown message type' },
  { data: Buffer.from([0, 0]), binary: true, what: 'a binary frame without an event type' },
  { data: Buffer.from([0, 0, 0, 4, 0, 0, 0, 99, 123]), binary: true, what: 'a truncated preview-with-metadata frame' },
  { data: Buffer.from([0, 0, 0, 3, 0, 0, 1, 0, 65]), binary: true, what: 'a truncated text frame' },
  { data: Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), binary: true, what: 'a preview frame without image bytes' },
  { data: Buffer.from([0, 0, 0, 77, 1, 2, 3]), binary: true, what: 'an unknown binary event type' },
];

/** Sends every garbage frame before each `executing` frame of a run. */
export function garbageFrames(): SimHooks {
  return {
    onSocketFrame: ({ socket, data, binary }) => {
      if (frameType(data, binary) === 'executing') {
        for (const frame of GARBAGE_FRAMES) socket.send(frame.data, { binary: frame.binary });
      }
      return true;
    },
  };
}

/**
 * Before the first `progress` frame, writes the header of a binary frame that announces `bytes`
 * bytes (more than the client accepts) straight onto the connection; the client must close it.
 */
export function oversizeFrame(bytes = 2 ** 31): SimHooks {
  let sent = false;
  return {
    onSocketFrame: ({ socket, data, binary }) => {
      if (sent || frameType(data, binary) !== 'progress') return true;
      sent = true;
      const header = Buffer.alloc(10);
      header[0] = 0x82; // FIN + binary
      header[1] = 127; // 64-bit length follows
      header.writeBigUInt64BE(BigInt(bytes), 2);
      (socket as unknown as { _socket: NodeJS.WritableStream })._socket.write(header);
      return false;
    },
  };
}

/** Merges several faults into one hooks object (hooks of the same name run in order). */
export function combine(...all: SimHooks[]): SimHooks {
  const merged: SimHooks = {};
  const pick = <K extends keyof SimHooks>(key: K): NonNullable<SimHooks[K]>[] => all.map((h) => h[key]).filter((f): f is NonNullable<SimHooks[K]> => f !== undefined);
  const requests = pick('onRequest');
  if (requests.length) merged.onRequest = async (r) => { for (const f of requests) if (await f(r)) return true; return false; };
  const upgrades = pick('onSocketUpgrade');
  if (upgrades.length) merged.onSocketUpgrade = (u) => upgrades.some((f) => f(u));
  const opens = pick('onSocketOpen');
  if (opens.length) merged.onSocketOpen = (s) => { for (const f of opens) f(s); };
  const frames = pick('onSocketFrame');
  if (frames.length) merged.onSocketFrame = (f) => frames.every((h) => h(f) !== false);
  const views = pick('onViewFile');
  if (views.length) merged.onViewFile = (f) => { for (const h of views) { const r = h(f); if (r) return r; } return undefined; };
  const starts = pick('onNodeStart');
  if (starts.length) merged.onNodeStart = async (n) => { for (const f of starts) await f(n); };
  const outputs = pick('onNodeOutput');
  if (outputs.length) merged.onNodeOutput = (n) => { let out = n.output; for (const f of outputs) out = f({ ...n, output: out }) ?? out; return out; };
  return merged;
}

/** A gate a hook can wait on: `open()` lets every waiter through. */
export interface Gate {
  wait(): Promise<void>;
  open(): void;
  readonly isOpen: boolean;
}

export function gate(): Gate {
  let release!: () => void;
  let opened = false;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return {
    wait: () => promise,
    open: () => {
      opened = true;
      release();
    },
    get isOpen() {
      return opened;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Workflows.

const EXAMPLE = JSON.parse(await readFile(new URL('../../examples/txt2img.json', import.meta.url), 'utf8')) as ApiWorkflow;

/** The example text-to-image workflow, small and quick: 64×64, a few steps (and the example's seed unless one is given). */
export function tinyWorkflow(options: { steps?: number; size?: number; prefix?: string; seed?: number } = {}): ApiWorkflow {
  const workflow = structuredClone(EXAMPLE);
  const set = (node: string, input: string, value: unknown): void => {
    (workflow[node] as { inputs: Record<string, unknown> }).inputs[input] = value;
  };
  set('5', 'width', options.size ?? 64);
  set('5', 'height', options.size ?? 64);
  set('3', 'steps', options.steps ?? 3);
  set('9', 'filename_prefix', options.prefix ?? 'fault');
  if (options.seed !== undefined) set('3', 'seed', options.seed);
  return workflow;
}

/**
 * Two outputs: "first" (saved by node 9) and "second" (node 12, after a second sampler, node 10),
 * so a test can stop the run after one output exists.
 */
export function twoOutputWorkflow(options: { steps?: number; size?: number } = {}): ApiWorkflow {
  const workflow = tinyWorkflow({ ...options, prefix: 'first' });
  workflow['10'] = { class_type: 'KSampler', inputs: { ...(workflow['3'] as { inputs: Record<string, unknown> }).inputs, seed: 7 }, _meta: { title: 'Second Sampler' } };
  workflow['11'] = { class_type: 'VAEDecode', inputs: { samples: ['10', 0], vae: ['4', 2] }, _meta: { title: 'Second Decode' } };
  workflow['12'] = { class_type: 'SaveImage', inputs: { filename_prefix: 'second', images: ['11', 0] }, _meta: { title: 'Save Second' } };
  return workflow;
}

/** Submits `workflow` as another client would (straight over HTTP); returns its prompt id. */
export async function submitAsOtherClient(sim: Pick<FaultSim, 'url'>, workflow: ApiWorkflow): Promise<string> {
  const res = await fetch(`${sim.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: workflow, client_id: 'someone-else' }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { prompt_id: string }).prompt_id;
}

/** Waits until the server's history lists `promptId` as completed or failed; returns its status. */
export async function waitForHistory(sim: Pick<FaultSim, 'url'>, promptId: string): Promise<{ status_str?: string; completed?: boolean; messages?: [string, unknown][] }> {
  for (;;) {
    const history = (await (await fetch(`${sim.url}/history/${promptId}`)).json()) as Record<string, { status?: { status_str?: string; completed?: boolean; messages?: [string, unknown][] } }>;
    const status = history[promptId]?.status;
    if (status) return status;
    await sleep(20);
  }
}

/** Whether the server's queue (running or pending) lists `promptId`. */
export async function isQueued(sim: Pick<FaultSim, 'url'>, promptId: string): Promise<boolean> {
  const queue = (await (await fetch(`${sim.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
  return [...queue.queue_running, ...queue.queue_pending].some((item) => item[1] === promptId);
}

export async function writeWorkflow(dir: string, name: string, workflow: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  await writeFile(path, typeof workflow === 'string' ? workflow : JSON.stringify(workflow, null, 2));
  return path;
}

// ---------------------------------------------------------------------------------------------
// The CLI.

/** Settings that make the quiet-socket check and the liveness pings quick, for tests. */
export const QUICK_CHECKS = { PYROS_CHECK_INTERVAL: '150ms', PYROS_PING_INTERVAL: '2s' };

// ---------------------------------------------------------------------------------------------
// End-state checks.

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else files.push(path);
  }
  return files;
}

/** Every file the server wrote into its output folder, by path relative to it; with `since`, only the files added after that snapshot. */
export async function serverOutputs(sim: Pick<FaultSim, 'dataDir'>, since?: Map<string, Buffer>): Promise<Map<string, Buffer>> {
  const root = join(sim.dataDir, 'output');
  const files = new Map<string, Buffer>();
  for (const path of await walk(root)) {
    const name = relative(root, path);
    if (!since?.has(name)) files.set(name, await readFile(path));
  }
  return files;
}

/** The run journals every run keeps in its output folder (`.pyros-journal/`). */
export const JOURNAL_FOLDER = '.pyros-journal';

/** The names in an output folder, its journal folder left out. */
export async function outputEntries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== JOURNAL_FOLDER);
}

/** The outputs saved in `dir` (sidecars and the run journals left out). */
export async function savedOutputs(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const path of await walk(dir)) {
    const name = relative(dir, path);
    if (/\.(txt|json)$/.test(name) || name.includes('.pyros-tmp-') || name.split(/[\\/]/)[0] === JOURNAL_FOLDER) continue;
    files.set(name, await readFile(path));
  }
  return files;
}

/** Each of `expected` is in `dir`, complete and byte-identical (names may differ). */
export async function assertSavedIdentical(dir: string, expected: Map<string, Buffer>): Promise<void> {
  const saved = [...(await savedOutputs(dir)).values()];
  assert.ok(expected.size > 0, 'the server produced no output to compare with');
  for (const [name, bytes] of expected) {
    assert.ok(
      saved.some((file) => file.equals(bytes)),
      `${name} (${bytes.length} bytes) is not in ${dir} byte for byte (saved: ${saved.map((f) => f.length).join(', ') || 'nothing'})`,
    );
  }
}

/** No `.pyros-tmp-*` file anywhere under `dir`. */
export async function assertNoTempFiles(dir: string): Promise<void> {
  const leftovers = (await walk(dir)).filter((path) => path.includes('.pyros-tmp-'));
  assert.deepEqual(leftovers, [], 'temporary files were left behind');
}

/** No secret appears in any of the texts (stdout, stderr, saved sidecars…). */
export function assertNoSecrets(texts: string[], secrets: string[]): void {
  for (const secret of secrets) {
    for (const text of texts) assert.ok(!text.includes(secret), `a secret ("${secret.slice(0, 3)}…") was printed:\n${text}`);
  }
}

/** The text of every file under `dir` (to check sidecars for secrets). */
export async function allText(dir: string): Promise<string[]> {
  return Promise.all((await walk(dir)).map((path) => readFile(path, 'latin1')));
}

/** The end state of a run into `out` that completed: every file the server produced in this test is saved there byte for byte, and no temporary file is left. */
export async function assertEndState(suite: Pick<FaultSuite, 'produced'>, out: string): Promise<void> {
  await assertSavedIdentical(out, await suite.produced());
  await assertNoTempFiles(out);
}

/** None of `secrets` is in the run's stdout or stderr, nor (given `savedIn`) in any file saved there. */
export async function assertSecretsKept(result: Pick<CliResult, 'stdout' | 'stderr'>, secrets: string[], savedIn?: string): Promise<void> {
  assertNoSecrets([result.stdout, result.stderr, ...(savedIn === undefined ? [] : await allText(savedIn))], secrets);
}

// ---------------------------------------------------------------------------------------------
// Small file systems (needs root and mount; tests skip with the reason otherwise).

export interface SmallDisk {
  dir: string;
  /** Makes the file system read-only (root ignores chmod, not a read-only mount). */
  readOnly(): Promise<void>;
  unmount(): Promise<void>;
}

function run(command: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: -1, stderr: error.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Mounts a tmpfs of `bytes` bytes on a fresh folder under `parent`; returns why not when it cannot. */
export async function mountSmallDisk(parent: string, bytes: number): Promise<SmallDisk | string> {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = join(parent, `disk-${bytes}`);
  await mkdir(dir, { recursive: true });
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'pyros-test', dir]);
  if (mounted.code !== 0) return `mount -t tmpfs failed: ${mounted.stderr.trim() || `exit ${mounted.code}`}`;
  return {
    dir,
    async readOnly() {
      const result = await run('mount', ['-o', 'remount,ro', dir]);
      if (result.code !== 0) throw new Error(`remount,ro failed: ${result.stderr}`);
    },
    async unmount() {
      await run('umount', [dir]);
    },
  };
}

/** Runs `use` on a small disk mounted for it (see mountSmallDisk) and unmounts it afterwards; skips the test, with the reason, when none can be mounted. */
export async function onSmallDisk(t: TestContext, parent: string, bytes: number, use: (disk: SmallDisk) => Promise<void>): Promise<void> {
  const disk = await mountSmallDisk(parent, bytes);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  try {
    await use(disk);
  } finally {
    await disk.unmount();
  }
}

// ---------------------------------------------------------------------------------------------
// TLS in front of the (plain HTTP) simulator.

export interface TlsProxy {
  url: string;
  /** The self-signed certificate (PEM file), e.g. for NODE_EXTRA_CA_CERTS. */
  certPath: string;
  close(): Promise<void>;
}

/**
 * A TLS terminator on 127.0.0.1 with a fresh self-signed certificate (made with openssl), passing
 * every byte through to `targetPort`, WebSocket upgrades included. Returns why not when openssl fails.
 */
export async function startTlsProxy(targetPort: number, dir: string): Promise<TlsProxy | string> {
  const tls = await import('node:tls');
  const net = await import('node:net');
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const made = await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  if (made.code !== 0) return `openssl could not make a certificate: ${made.stderr.trim() || `exit ${made.code}`}`;
  const sockets = new Set<import('node:net').Socket>();
  const server = tls.createServer({ key: await readFile(keyPath), cert: await readFile(certPath) }, (client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    certPath,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

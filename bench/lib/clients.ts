/** The clients compared: pyros, the hand-written floor, and the peer libraries in bench/peers. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './proc.ts';

export interface ClientSpec {
  /** Name in the results. */
  name: string;
  /** Module in bench/peers/clients/. */
  module: string;
  kind: 'pyros' | 'floor' | 'peer';
  /** The npm package it needs (peers only). */
  packageName?: string;
}

export const FLOOR: ClientSpec = { name: 'floor (ws + http)', module: 'floor', kind: 'floor' };
export const PYROS: ClientSpec = { name: 'pyros', module: 'pyros', kind: 'pyros' };
export const PEERS: ClientSpec[] = [
  { name: '@saintno/comfyui-sdk', module: 'saintno', kind: 'peer', packageName: '@saintno/comfyui-sdk' },
  { name: '@stable-canvas/comfyui-client', module: 'stable-canvas', kind: 'peer', packageName: '@stable-canvas/comfyui-client' },
  { name: 'comfy-ui-client', module: 'comfy-ui-client', kind: 'peer', packageName: 'comfy-ui-client' },
];

/** Installs bench/peers from its lockfile when a package is missing (registry only, `npm ci`). */
export function ensurePeersInstalled(root: string, log: (line: string) => void): void {
  const peers = join(root, 'bench', 'peers');
  const needed = [...PEERS.map((peer) => peer.packageName as string), 'ws'];
  const missing = needed.filter((name) => !existsSync(join(peers, 'node_modules', ...name.split('/'), 'package.json')));
  if (missing.length === 0) return;
  log(`installing the peer clients (${missing.join(', ')} missing): npm ci --prefix bench/peers`);
  const result = spawnSync('npm', ['ci', '--prefix', peers, '--no-audit', '--no-fund'], { stdio: ['ignore', process.stderr, process.stderr], cwd: root });
  if (result.status !== 0) throw new Error('npm ci --prefix bench/peers failed');
}

/** A long-lived client process (bench/peers/clients/worker.mjs) that runs one job per request. */
export class Worker {
  readonly spec: ClientSpec;
  private child: ChildProcess | undefined;
  private readonly root: string;
  private readonly server: string;
  private readonly core: string | undefined;
  private next = 0;
  private stderr = '';

  constructor(spec: ClientSpec, options: { root: string; server: string; core: string | undefined }) {
    this.spec = spec;
    this.root = options.root;
    this.server = options.server;
    this.core = options.core;
  }

  async start(): Promise<void> {
    const argv = pinned(this.core, [process.execPath, join(this.root, 'bench/peers/clients/worker.mjs'), this.spec.module, this.server]);
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], cwd: this.root });
    this.child = child;
    this.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 4000) this.stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.spec.name} did not connect: ${this.stderr}`)), 20_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.spec.name} exited with ${code}: ${this.stderr}`));
      });
    });
    child.removeAllListeners('exit');
  }

  /** One job; resolves with its time in ms, or an error text. */
  run(workflow: unknown, outDir: string, timeoutMs: number): Promise<{ ms: number } | { error: string }> {
    const child = this.child;
    if (!child) return Promise.resolve({ error: 'not started' });
    const id = this.next++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        resolve({ error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      const onMessage = (message: { id?: number; ms?: number; error?: string }): void => {
        if (message.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message.error !== undefined ? { error: message.error } : { ms: message.ms as number });
      };
      child.on('message', onMessage);
      child.send({ id, workflow, outDir });
    });
  }

  /** After a job that never answered: a fresh process, so a stuck job cannot disturb the next. */
  async restart(): Promise<void> {
    this.kill();
    await this.start();
  }

  kill(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 3_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.send({ close: true });
    });
  }
}

/** Child processes for the benchmark: pinned to a core, timed, their peak RSS read from /usr/bin/time. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pinning {
  /** The simulator's core, or undefined when pinning is not possible. */
  server: string | undefined;
  /** The clients' core. */
  client: string | undefined;
  note: string;
}

export function choosePinning(cpus: number): Pinning {
  const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!taskset) return { server: undefined, client: undefined, note: 'taskset not found: processes are not pinned' };
  if (cpus < 2) return { server: undefined, client: undefined, note: 'one core: server and clients share it' };
  return { server: '0', client: '1', note: 'server on core 0, clients on core 1 (taskset)' };
}

/** The command line that runs `argv` on `core` (when pinning is possible). */
export function pinned(core: string | undefined, argv: string[]): string[] {
  return core === undefined ? argv : ['taskset', '-c', core, ...argv];
}

export const HAS_GNU_TIME = existsSync('/usr/bin/time');

export interface Measured {
  ok: boolean;
  ms: number;
  /** Peak resident set size in MB (from /usr/bin/time -f %M), when known. */
  rssMb: number | undefined;
  code: number | null;
  stderr: string;
}

let counter = 0;

/** Runs one process to its end: wall time from spawn to exit, and its peak RSS. */
export async function measureProcess(argv: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<Measured> {
  const timeFile = join(tmpdir(), `pyros-bench-time-${process.pid}-${counter++}.txt`);
  const full = HAS_GNU_TIME ? ['/usr/bin/time', '-f', '%M', '-o', timeFile, ...argv] : argv;
  const started = performance.now();
  // Its own process group: a timeout kills the client too, not only /usr/bin/time above it.
  const child = spawn(full[0] as string, full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: options.env, cwd: options.cwd, detached: true });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4000) stderr += chunk.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, options.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => resolve(exit)));
  const ms = performance.now() - started;
  clearTimeout(timer);
  let rssMb: number | undefined;
  if (HAS_GNU_TIME) {
    const text = await readFile(timeFile, 'utf8').catch(() => '');
    const kb = Number(text.trim().split('\n').at(-1));
    if (Number.isFinite(kb) && kb > 0) rssMb = kb / 1024;
    await rm(timeFile, { force: true });
  }
  return { ok: code === 0 && !timedOut, ms, rssMb, code, stderr: timedOut ? `timed out after ${options.timeoutMs} ms\n${stderr}` : stderr };
}

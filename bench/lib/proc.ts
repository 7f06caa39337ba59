/**
 * Child processes for the benchmark: pinned to a core, timed, their peak RSS and CPU time read
 * from /usr/bin/time (and another process's CPU time from /proc).
 */
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
  /** User + system CPU seconds (from /usr/bin/time -f "%U %S"), when known. */
  cpuSeconds: number | undefined;
  code: number | null;
  /** The first 4,000 characters of its stderr. */
  stderr: string;
  /** The last 2,000 characters of its stderr. */
  stderrTail: string;
}

let counter = 0;

/** Runs one process to its end: wall time from spawn to exit, its peak RSS and CPU time. */
export async function measureProcess(argv: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<Measured> {
  const timeFile = join(tmpdir(), `pyros-bench-time-${process.pid}-${counter++}.txt`);
  const full = HAS_GNU_TIME ? ['/usr/bin/time', '-f', '%M %U %S', '-o', timeFile, ...argv] : argv;
  const started = performance.now();
  // Its own process group: a timeout kills the client too, not only /usr/bin/time above it.
  const child = spawn(full[0] as string, full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: options.env, cwd: options.cwd, detached: true });
  let stderr = '';
  let stderrTail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (stderr.length < 4000) stderr += text;
    stderrTail = (stderrTail + text).slice(-2000);
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
  let cpuSeconds: number | undefined;
  if (HAS_GNU_TIME) {
    // The last line: "Command exited with non-zero status N" may come before it.
    const text = await readFile(timeFile, 'utf8').catch(() => '');
    const [kb, user, system] = (text.trim().split('\n').at(-1) ?? '').trim().split(/\s+/).map(Number);
    if (kb !== undefined && Number.isFinite(kb) && kb > 0) rssMb = kb / 1024;
    if (user !== undefined && system !== undefined && Number.isFinite(user) && Number.isFinite(system)) cpuSeconds = user + system;
    await rm(timeFile, { force: true });
  }
  const timeout = `timed out after ${options.timeoutMs} ms\n`;
  return { ok: code === 0 && !timedOut, ms, rssMb, cpuSeconds, code, stderr: timedOut ? `${timeout}${stderr}` : stderr, stderrTail: timedOut ? `${timeout}${stderrTail}` : stderrTail };
}

let clockTicks: number | undefined;

/** CPU seconds (user + system) a running process has used so far, from /proc/PID/stat; undefined when unreadable. */
export async function processCpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command name (which may hold spaces), from field 3 on: utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (clockTicks === undefined) {
    const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = Number(answer.stdout?.trim()) || 100;
  }
  return Number.isFinite(ticks) ? ticks / clockTicks : undefined;
}

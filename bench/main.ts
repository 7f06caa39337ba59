/**
 * `npm run bench`: pyros against the other ComfyUI clients and a hand-written floor, side by side
 * in one run, against `pyros sim` (or --server URL) on loopback. Server and clients run on
 * different cores, clients take turns in a shuffled order, a warm-up round is not counted, and
 * every raw sample is kept in the JSON results. Not a test: nothing here asserts a timing.
 *
 *   npm run bench                 # full run (about 20 minutes on 2 cores, 12 of them section 7)
 *   npm run bench -- --quick      # fewer samples, 256 MB only, short batches (about a minute)
 *   npm run bench -- --only scale # only the sections named (comma-separated: per-job, process,
 *                                 # editor, memory, throughput, cold-start, scale)
 *   npm run bench -- --save       # replace the committed results in bench/results
 *   npm run bench -- --peers comfy-ui-client --out /tmp/bench
 *   npm run bench -- --server http://127.0.0.1:8188   # sections 1–2 against that server (core nodes only;
 *                                 # sections 3–7 always use their own simulators)
 *   --no-build skips `node scripts/build.mjs` (when the build is fresh)
 *
 * Results go to bench/out (ignored by git) unless --save or --out says otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem, release, platform } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawChart, type Panel } from './lib/chart.ts';
import { ensurePeersInstalled, FLOOR, PEERS, PYROS, Worker, type ClientSpec } from './lib/clients.ts';
import { choosePinning, measureProcess, pinned, type Pinning } from './lib/proc.ts';
import { startSimProcess } from './lib/sim.ts';
import { round, shuffled, summarize, type Summary } from './lib/stats.ts';
import { editorSection, type EditorPlan } from './editor.ts';
import { scaleSection, type ScalePlan } from './scale.ts';
import { samplerWorkflow } from './lib/workflows.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The results shown in the README, replaced only with --save. */
const SAVED_RESULTS = join(ROOT, 'bench', 'results');
/** Where a run writes without --save or --out (ignored by git). */
const UNSAVED_RESULTS = join(ROOT, 'bench', 'out');

interface Options {
  quick: boolean;
  build: boolean;
  server: string | undefined;
  peers: ClientSpec[];
  out: string;
  /** The sections to run (all unless --only). */
  only: Set<SectionName>;
}

const SECTION_NAMES = ['per-job', 'process', 'editor', 'memory', 'throughput', 'cold-start', 'scale'] as const;
type SectionName = (typeof SECTION_NAMES)[number];

interface Plan {
  editor: EditorPlan;
  perJobRounds: number;
  perJobWarmup: number;
  processRuns: number;
  processWarmup: number;
  memorySizes: { label: string; size: string; bytes: number }[];
  memoryRuns: number;
  throughputJobs: number;
  coldRuns: number;
  coldWarmup: number;
  scale: ScalePlan;
}

const FULL: Plan = {
  editor: { conversions: 50, runs: 20, warmup: 2 },
  perJobRounds: 300,
  perJobWarmup: 15,
  processRuns: 20,
  processWarmup: 2,
  memorySizes: [
    { label: '256 MB', size: '256M', bytes: 256 * 1024 ** 2 },
    { label: '1 GiB', size: '1G', bytes: 1024 ** 3 },
  ],
  memoryRuns: 2,
  throughputJobs: 500,
  coldRuns: 20,
  coldWarmup: 2,
  scale: {
    runs: [
      { jobs: 600, servers: [1, 2, 4, 8] },
      { jobs: 6_000, servers: [1, 2, 4, 8] },
      { jobs: 60_000, servers: [8] },
    ],
    warmupJobs: 16,
    note: '600 and 6,000 jobs over 1, 2, 4 and 8 simulators; 60,000 over 8',
  },
};

const QUICK: Plan = {
  editor: { conversions: 10, runs: 4, warmup: 1 },
  perJobRounds: 30,
  perJobWarmup: 3,
  processRuns: 4,
  processWarmup: 1,
  memorySizes: [{ label: '256 MB', size: '256M', bytes: 256 * 1024 ** 2 }],
  memoryRuns: 1,
  throughputJobs: 40,
  coldRuns: 5,
  coldWarmup: 1,
  scale: {
    runs: [
      { jobs: 200, servers: [1, 2, 8] },
      { jobs: 2_000, servers: [8] },
    ],
    warmupJobs: 8,
    note: 'quick: 200 jobs over 1, 2 and 8 simulators, 2,000 over 8 (the full run: 600 and 6,000 over 1–8, 60,000 over 8)',
  },
};

/** Sampler work in the throughput workflow: 10 steps of 5 ms, like a GPU that is busy, not the CPU. */
const THROUGHPUT_STEP_MS = 5;
const THROUGHPUT_STEPS = 10;

function parseArgs(argv: string[]): Options {
  const options: Options = { quick: false, build: true, server: undefined, peers: PEERS, out: UNSAVED_RESULTS, only: new Set(SECTION_NAMES) };
  let save = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--server') options.server = value();
    else if (arg === '--save') save = true;
    else if (arg === '--out') out = resolve(value());
    else if (arg === '--only') {
      const wanted = value().split(',').map((name) => name.trim()).filter(Boolean);
      const unknown = wanted.filter((name) => !(SECTION_NAMES as readonly string[]).includes(name));
      if (unknown.length > 0 || wanted.length === 0) throw new Error(`unknown section(s) for --only: ${unknown.join(', ') || '(none)'} (known: ${SECTION_NAMES.join(', ')})`);
      options.only = new Set(wanted as SectionName[]);
    }
    else if (arg === '--peers') {
      const wanted = value().split(',').map((name) => name.trim()).filter(Boolean);
      options.peers = wanted.includes('none') ? [] : PEERS.filter((peer) => wanted.includes(peer.module) || wanted.includes(peer.packageName ?? ''));
      const unknown = wanted.filter((name) => name !== 'none' && !PEERS.some((peer) => peer.module === name || peer.packageName === name));
      if (unknown.length > 0) throw new Error(`unknown peer(s): ${unknown.join(', ')} (known: ${PEERS.map((peer) => peer.module).join(', ')})`);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: npm run bench -- [--quick] [--only ${SECTION_NAMES.join(',')}] [--server URL] [--peers saintno,stable-canvas,comfy-ui-client|none] [--save | --out DIR] [--no-build]\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (save && out !== undefined) throw new Error('--save writes to bench/results; --out names another folder: give one of them');
  options.out = save ? SAVED_RESULTS : (out ?? UNSAVED_RESULTS);
  return options;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The tiny job: one sampler step (2 ms in the simulator) on a 16×16 latent, saved as a 64 KB PNG
 * (the simulator pads it). Every job has its own seed, so none is answered from the cache. The
 * step matters: without it the run can end before the POST answer arrives, and clients that
 * start listening only after that answer wait forever.
 */
function tinyWorkflow(seed: number): Record<string, unknown> {
  if (modelFree) {
    // Another server has none of the simulator's models: a flat image (its colour keeps jobs distinct).
    return {
      '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: seed % 16777215 } },
      '2': { class_type: 'SaveImage', inputs: { filename_prefix: 'bench', images: ['1', 0] } },
    };
  }
  return samplerWorkflow({ seed, steps: 1, size: 16, text: 'a tiny benchmark job', prefix: 'bench' });
}

function throughputWorkflow(): Record<string, unknown> {
  return samplerWorkflow({ seed: 1, steps: THROUGHPUT_STEPS, size: 64, text: 'a benchmark of many small jobs', negative: 'blurry', prefix: 'throughput' });
}

/** Set with --server: the tiny job then uses core nodes only. */
let modelFree = false;
let seedCounter = Math.floor(Math.random() * 1_000_000_000);
const nextSeed = (): number => ++seedCounter;

interface ClientResult {
  name: string;
  kind: ClientSpec['kind'];
  summary: Summary;
  ratio: number | undefined;
  failures: number;
  errors: string[];
  samples: number[];
}

function ratioTo(value: number, floor: number | undefined): number | undefined {
  return floor === undefined || !Number.isFinite(floor) || floor === 0 ? undefined : round(value / floor, 3);
}

/** 1. Per job, library: submit → every output on disk, clients taking turns. */
async function perJob(plan: Plan, pinning: Pinning, server: string, clients: ClientSpec[], work: string): Promise<Record<string, unknown>> {
  log(`1. per job (library): ${plan.perJobWarmup} warm-up + ${plan.perJobRounds} rounds × ${clients.length} clients`);
  const workers = new Map<ClientSpec, Worker>();
  const samples = new Map<ClientSpec, number[]>();
  const errors = new Map<ClientSpec, string[]>();
  const gaveUp = new Set<ClientSpec>();
  for (const spec of clients) {
    const worker = new Worker(spec, { root: ROOT, server, core: pinning.client });
    try {
      await worker.start();
      workers.set(spec, worker);
    } catch (error) {
      errors.set(spec, [String((error as Error).message)]);
      gaveUp.add(spec);
    }
    samples.set(spec, []);
  }
  const maxFailures = Math.max(5, Math.round(plan.perJobRounds * 0.05));
  for (let round = 0; round < plan.perJobWarmup + plan.perJobRounds; round++) {
    for (const spec of shuffled(clients)) {
      if (gaveUp.has(spec)) continue;
      const worker = workers.get(spec) as Worker;
      const outcome = await worker.run(tinyWorkflow(nextSeed()), join(work, 'perjob', spec.module, String(round)), 5_000);
      if ('ms' in outcome) {
        if (round >= plan.perJobWarmup) samples.get(spec)?.push(outcome.ms);
        continue;
      }
      const list = errors.get(spec) ?? [];
      list.push(outcome.error.slice(0, 300));
      errors.set(spec, list);
      if (list.length >= maxFailures) {
        log(`   ${spec.name}: ${list.length} failures, giving up (${list[0]})`);
        gaveUp.add(spec);
      } else {
        await worker.restart().catch(() => gaveUp.add(spec));
      }
    }
  }
  await Promise.all([...workers.values()].map((worker) => worker.stop()));
  const floor = summarize(samples.get(clients[0] as ClientSpec) ?? []).median;
  const results: ClientResult[] = clients.map((spec) => {
    const list = samples.get(spec) ?? [];
    const summary = summarize(list);
    return {
      name: spec.name,
      kind: spec.kind,
      summary: roundSummary(summary),
      ratio: ratioTo(summary.median, floor),
      failures: errors.get(spec)?.length ?? 0,
      errors: (errors.get(spec) ?? []).slice(0, 3),
      samples: list.map((value) => round(value, 3)),
    };
  });
  return { title: 'Per job, library: submit → every output on disk (64 KB PNG)', unit: 'ms', warmup: plan.perJobWarmup, rounds: plan.perJobRounds, target: 'pyros ≤ 1.10× the floor', clients: results };
}

function roundSummary(summary: Summary): Summary {
  return { n: summary.n, median: round(summary.median, 3), p95: round(summary.p95, 3), mean: round(summary.mean, 3), min: round(summary.min, 3), max: round(summary.max, 3) };
}

/** The command that runs one job of `spec` in a fresh process. */
function processCommand(spec: ClientSpec, server: string, workflowFile: string, outDir: string): string[] {
  if (spec.kind === 'pyros') return [process.execPath, join(ROOT, 'bin/pyros.js'), 'run', workflowFile, '--server', server, '-o', outDir];
  return [process.execPath, join(ROOT, 'bench/peers/clients/once.mjs'), spec.module, server, workflowFile, outDir];
}

interface ProcessSample {
  ms: number;
  rssMb: number | undefined;
}

async function processRuns(
  clients: ClientSpec[],
  options: { runs: number; warmup: number; pinning: Pinning; server: string; work: string; env: NodeJS.ProcessEnv; timeoutMs: number; label: string },
): Promise<Map<ClientSpec, { samples: ProcessSample[]; errors: string[] }>> {
  const results = new Map(clients.map((spec) => [spec, { samples: [] as ProcessSample[], errors: [] as string[] }]));
  for (let run = 0; run < options.warmup + options.runs; run++) {
    for (const spec of shuffled(clients)) {
      const entry = results.get(spec) as { samples: ProcessSample[]; errors: string[] };
      if (entry.errors.length >= 3) continue;
      const dir = await mkdtemp(join(options.work, `${spec.module}-`));
      const workflowFile = join(dir, 'workflow.json');
      await writeFile(workflowFile, JSON.stringify(tinyWorkflow(nextSeed())));
      const outDir = join(dir, 'out');
      await mkdir(outDir);
      const measured = await measureProcess(pinned(options.pinning.client, processCommand(spec, options.server, workflowFile, outDir)), { env: options.env, timeoutMs: options.timeoutMs, cwd: dir });
      await rm(dir, { recursive: true, force: true });
      if (!measured.ok) {
        entry.errors.push(`exit ${measured.code}: ${measured.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`);
        log(`   ${options.label} ${spec.name}: failed (${entry.errors.at(-1)})`);
        continue;
      }
      if (run >= options.warmup) entry.samples.push({ ms: measured.ms, rssMb: measured.rssMb });
    }
  }
  return results;
}

/** An environment without the user's pyros settings, for every client alike. */
function cleanEnv(work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: join(work, 'config') };
  for (const key of Object.keys(env)) if (key.startsWith('PYROS_') || key.startsWith('COMFYUI_')) delete env[key];
  return env;
}

/** 2. Whole process: one tiny job in a fresh process, wall time and peak RSS. */
async function wholeProcess(plan: Plan, pinning: Pinning, server: string, clients: ClientSpec[], work: string): Promise<Record<string, unknown>> {
  log(`2. whole process: ${plan.processWarmup} warm-up + ${plan.processRuns} runs × ${clients.length} clients`);
  const runs = await processRuns(clients, { runs: plan.processRuns, warmup: plan.processWarmup, pinning, server, work, env: cleanEnv(work), timeoutMs: 30_000, label: 'process' });
  const floorRuns = runs.get(clients[0] as ClientSpec)?.samples ?? [];
  const floorWall = summarize(floorRuns.map((s) => s.ms)).median;
  const floorRss = summarize(floorRuns.flatMap((s) => (s.rssMb === undefined ? [] : [s.rssMb]))).median;
  return {
    title: 'Whole process: one tiny job in a fresh process',
    target: 'pyros ≤ 1.00× the floor (wall time and peak RSS)',
    warmup: plan.processWarmup,
    runs: plan.processRuns,
    clients: clients.map((spec) => {
      const entry = runs.get(spec) as { samples: ProcessSample[]; errors: string[] };
      const wall = summarize(entry.samples.map((s) => s.ms));
      const rss = summarize(entry.samples.flatMap((s) => (s.rssMb === undefined ? [] : [s.rssMb])));
      return {
        name: spec.kind === 'pyros' ? 'pyros (CLI: pyros run)' : spec.name,
        kind: spec.kind,
        wall: roundSummary(wall),
        rssMb: roundSummary(rss),
        ratio: ratioTo(wall.median, floorWall),
        rssRatio: ratioTo(rss.median, floorRss),
        failures: entry.errors.length,
        errors: entry.errors,
        samples: entry.samples.map((s) => ({ ms: round(s.ms, 2), rssMb: s.rssMb === undefined ? null : round(s.rssMb, 1) })),
      };
    }),
  };
}

/** 3. Memory: peak RSS while downloading one large output, in a fresh process per client. */
async function memory(plan: Plan, pinning: Pinning, clients: ClientSpec[], work: string): Promise<Record<string, unknown>> {
  const sizes = [];
  for (const size of plan.memorySizes) {
    log(`3. memory: one ${size.label} output, ${plan.memoryRuns} run(s) × ${clients.length} clients`);
    const sim = await startSimProcess({ root: ROOT, core: pinning.server, outputSize: size.size, stepMs: 2 });
    try {
      const runs = await processRuns(clients, { runs: plan.memoryRuns, warmup: 0, pinning, server: sim.urls[0] as string, work, env: cleanEnv(work), timeoutMs: 180_000, label: `memory ${size.label}` });
      sizes.push({
        label: size.label,
        bytes: size.bytes,
        clients: clients.map((spec) => {
          const entry = runs.get(spec) as { samples: ProcessSample[]; errors: string[] };
          return {
            name: spec.kind === 'pyros' ? 'pyros (CLI: pyros run)' : spec.name,
            kind: spec.kind,
            rssMb: roundSummary(summarize(entry.samples.flatMap((s) => (s.rssMb === undefined ? [] : [s.rssMb])))),
            wall: roundSummary(summarize(entry.samples.map((s) => s.ms))),
            failures: entry.errors.length,
            errors: entry.errors,
            samples: entry.samples.map((s) => ({ ms: round(s.ms, 1), rssMb: s.rssMb === undefined ? null : round(s.rssMb, 1) })),
          };
        }),
      });
    } finally {
      await sim.stop();
    }
  }
  return { title: 'Memory: peak RSS while downloading one large output', target: 'pyros ≤ 100 MB whatever the size', sizes };
}

/** 4. Throughput: N small jobs with `pyros run --count` through 1 and 4 simulators. */
async function throughput(plan: Plan, pinning: Pinning, work: string): Promise<Record<string, unknown>> {
  const runs = [];
  const workflowFile = join(work, 'throughput.json');
  await writeFile(workflowFile, JSON.stringify(throughputWorkflow()));
  for (const servers of [1, 4]) {
    log(`4. throughput: ${plan.throughputJobs} jobs through ${servers} simulator${servers === 1 ? '' : 's'}`);
    const sim = await startSimProcess({ root: ROOT, core: pinning.server, instances: servers, stepMs: THROUGHPUT_STEP_MS });
    try {
      const command = (count: number, seed: number, out: string): string[] =>
        pinned(pinning.client, [process.execPath, join(ROOT, 'bin/pyros.js'), 'run', workflowFile, '--count', String(count), '--seed', `${seed}+`, ...sim.urls.flatMap((url) => ['--server', url]), '-o', out]);
      // Warm-up, not counted.
      await measureProcess(command(Math.min(8, plan.throughputJobs), 1_000_000, join(work, `tp-warm-${servers}`)), { env: cleanEnv(work), timeoutMs: 60_000 });
      const measured = await measureProcess(command(plan.throughputJobs, 1, join(work, `tp-${servers}`)), { env: cleanEnv(work), timeoutMs: 600_000 });
      await rm(join(work, `tp-${servers}`), { recursive: true, force: true });
      runs.push({
        servers,
        ok: measured.ok,
        seconds: round(measured.ms / 1000, 3),
        jobsPerSecond: round(plan.throughputJobs / (measured.ms / 1000), 2),
        rssMb: measured.rssMb === undefined ? null : round(measured.rssMb, 1),
        error: measured.ok ? undefined : measured.stderr.slice(-300),
      });
    } finally {
      await sim.stop();
    }
  }
  const one = runs[0]?.jobsPerSecond ?? Number.NaN;
  const four = runs[1]?.jobsPerSecond ?? Number.NaN;
  return {
    title: `Throughput: ${plan.throughputJobs} small jobs with pyros run --count (${THROUGHPUT_STEPS} steps × ${THROUGHPUT_STEP_MS} ms each)`,
    jobs: plan.throughputJobs,
    stepMs: THROUGHPUT_STEP_MS,
    steps: THROUGHPUT_STEPS,
    runs,
    scaling: round(four / one, 2),
  };
}

/** 5. Cold start: pyros --help and pyros run --help, against a bare `node -e ""`. */
async function coldStart(plan: Plan, pinning: Pinning, work: string): Promise<Record<string, unknown>> {
  log(`5. cold start: ${plan.coldWarmup} warm-up + ${plan.coldRuns} runs`);
  const commands = [
    { name: 'node -e "" (floor)', kind: 'floor', argv: [process.execPath, '-e', ''] },
    { name: 'pyros --help', kind: 'pyros', argv: [process.execPath, join(ROOT, 'bin/pyros.js'), '--help'] },
    { name: 'pyros run --help', kind: 'pyros', argv: [process.execPath, join(ROOT, 'bin/pyros.js'), 'run', '--help'] },
  ] as const;
  const samples = new Map<string, ProcessSample[]>(commands.map((c) => [c.name, []]));
  for (let run = 0; run < plan.coldWarmup + plan.coldRuns; run++) {
    for (const command of shuffled(commands)) {
      const measured = await measureProcess(pinned(pinning.client, [...command.argv]), { env: cleanEnv(work), timeoutMs: 10_000 });
      if (measured.ok && run >= plan.coldWarmup) samples.get(command.name)?.push({ ms: measured.ms, rssMb: measured.rssMb });
    }
  }
  const floor = summarize((samples.get(commands[0].name) ?? []).map((s) => s.ms)).median;
  return {
    title: 'Cold start',
    warmup: plan.coldWarmup,
    runs: plan.coldRuns,
    commands: commands.map((command) => {
      const list = samples.get(command.name) ?? [];
      const wall = summarize(list.map((s) => s.ms));
      return {
        name: command.name,
        kind: command.kind,
        wall: roundSummary(wall),
        rssMb: roundSummary(summarize(list.flatMap((s) => (s.rssMb === undefined ? [] : [s.rssMb])))),
        ratio: ratioTo(wall.median, floor),
        samples: list.map((s) => ({ ms: round(s.ms, 2), rssMb: s.rssMb === undefined ? null : round(s.rssMb, 1) })),
      };
    }),
  };
}

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}

function gitCommit(): string | undefined {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const plan = options.quick ? QUICK : FULL;
  const started = Date.now();
  const pinning = choosePinning(cpus().length);
  // The orchestrator waits most of the time; it stays off the clients' core.
  if (pinning.server !== undefined) spawnSync('taskset', ['-p', '-c', pinning.server, String(process.pid)], { stdio: 'ignore' });
  log(`pyros bench${options.quick ? ' --quick' : ''}: ${pinning.note}`);
  const wants = (name: SectionName): boolean => options.only.has(name);
  const withClients = wants('per-job') || wants('process') || wants('memory');
  if (withClients) ensurePeersInstalled(ROOT, log);
  if (options.build) log('building pyros (node scripts/build.mjs)');
  if (options.build && spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error('the build failed');

  modelFree = options.server !== undefined;
  const work = await mkdtemp(join(tmpdir(), 'pyros-bench-'));
  const clients = [FLOOR, PYROS, ...options.peers];
  const sections: Record<string, unknown> = {};
  try {
    const firstThree = wants('per-job') || wants('process') || (wants('editor') && !options.server);
    const sim = options.server || !firstThree ? undefined : await startSimProcess({ root: ROOT, core: pinning.server, outputSize: '64K', stepMs: 2 });
    const server = options.server ?? (sim?.urls[0] as string);
    try {
      if (wants('per-job')) sections.perJob = await perJob(plan, pinning, server, clients, work);
      if (wants('process')) sections.process = await wholeProcess(plan, pinning, server, clients, work);
      if (wants('editor') && !options.server) sections.editor = await editorSection({ plan: plan.editor, pinning, root: ROOT, server, work, env: cleanEnv(work), log });
    } finally {
      await sim?.stop();
    }
    if (wants('memory')) sections.memory = await memory(plan, pinning, clients, work);
    if (wants('throughput')) sections.throughput = await throughput(plan, pinning, work);
    if (wants('cold-start')) sections.coldStart = await coldStart(plan, pinning, work);
    if (wants('scale')) sections.scale = await scaleSection({ plan: plan.scale, pinning, root: ROOT, work, env: cleanEnv(work), log });
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const results = {
    meta: {
      date: new Date().toISOString(),
      quick: options.quick,
      machine: machine(),
      pinning: pinning.note,
      server: options.server ?? 'pyros sim on 127.0.0.1',
      commit: gitCommit(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      seconds: round((Date.now() - started) / 1000, 1),
    },
    sections,
  };
  await mkdir(options.out, { recursive: true });
  const table = renderTable(results);
  await writeFile(join(options.out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(options.out, 'latest.md'), `${table}\n`);
  await writeFile(join(options.out, 'latest.png'), drawChart('pyros bench', subtitle(results.meta), chartPanels(sections)));
  process.stdout.write(`${table}\n`);
  log(`results: ${join(options.out, 'latest.json')}, ${join(options.out, 'latest.md')}, ${join(options.out, 'latest.png')} (${results.meta.seconds} s)`);
}

function subtitle(meta: { date: string; machine: Record<string, unknown> }): string {
  const m = meta.machine;
  return `${meta.date.slice(0, 10)}  ${String(m.cpu)}, ${m.cores} cores, node ${String(m.node)}`;
}

type AnyRecord = Record<string, any>;

const fmt = (value: unknown, digits = 1): string => (typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–');
const times = (value: unknown): string => (typeof value === 'number' && Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

/** The Markdown table printed at the end (and shown in the README). */
export function renderTable(results: { meta: AnyRecord; sections: AnyRecord }): string {
  const { meta, sections } = results;
  const m = meta.machine as AnyRecord;
  const lines: string[] = [];
  lines.push(`pyros bench, ${meta.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; ${meta.pinning}; \`${meta.command}\` (${meta.seconds} s)`, '');
  if (sections.perJob) {
    const s = sections.perJob as AnyRecord;
    lines.push(`**1. ${s.title}** — ${s.rounds} jobs per client after ${s.warmup} warm-up, target ${s.target}`, '', '| client | median ms | p95 ms | × floor | failures |', '|---|---:|---:|---:|---:|');
    for (const c of s.clients as AnyRecord[]) lines.push(`| ${c.name} | ${fmt(c.summary.median, 2)} | ${fmt(c.summary.p95, 2)} | ${times(c.ratio)} | ${c.failures} |`);
    lines.push('');
  }
  if (sections.process) {
    const s = sections.process as AnyRecord;
    lines.push(`**2. ${s.title}** — ${s.runs} runs each after ${s.warmup} warm-up, target ${s.target}`, '', '| client | median ms | p95 ms | × floor | peak RSS MB | × floor | failures |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const c of s.clients as AnyRecord[]) lines.push(`| ${c.name} | ${fmt(c.wall.median)} | ${fmt(c.wall.p95)} | ${times(c.ratio)} | ${fmt(c.rssMb.median)} | ${times(c.rssRatio)} | ${c.failures} |`);
    lines.push('');
  }
  if (sections.memory) {
    const s = sections.memory as AnyRecord;
    const sizes = s.sizes as AnyRecord[];
    lines.push(`**3. ${s.title}** — target ${s.target}`, '', `| client | ${sizes.map((size) => `${size.label}: peak RSS MB (time s)`).join(' | ')} |`, `|---|${sizes.map(() => '---:').join('|')}|`);
    for (const [i, c] of ((sizes[0]?.clients ?? []) as AnyRecord[]).entries()) {
      const cells = sizes.map((size) => {
        const entry = (size.clients as AnyRecord[])[i] as AnyRecord;
        return entry.rssMb.n > 0 ? `${fmt(entry.rssMb.median, 0)} (${fmt(entry.wall.median / 1000, 2)})` : `failed: ${String(entry.errors[0] ?? '').slice(0, 60)}`;
      });
      lines.push(`| ${c.name} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  if (sections.throughput) {
    const s = sections.throughput as AnyRecord;
    lines.push(`**4. ${s.title}**`, '', '| servers | seconds | jobs/s | peak RSS MB |', '|---:|---:|---:|---:|');
    for (const run of s.runs as AnyRecord[]) lines.push(`| ${run.servers} | ${fmt(run.seconds, 2)} | ${fmt(run.jobsPerSecond)} | ${fmt(run.rssMb, 0)} |`);
    lines.push('', `Scaling 1 → 4 servers: ${times(s.scaling)}`, '');
  }
  if (sections.coldStart) {
    const s = sections.coldStart as AnyRecord;
    lines.push(`**5. ${s.title}** — ${s.runs} runs each after ${s.warmup} warm-up`, '', '| command | median ms | p95 ms | × node | peak RSS MB |', '|---|---:|---:|---:|---:|');
    for (const c of s.commands as AnyRecord[]) lines.push(`| ${c.name} | ${fmt(c.wall.median)} | ${fmt(c.wall.p95)} | ${times(c.ratio)} | ${fmt(c.rssMb.median)} |`);
    lines.push('');
  }
  if (sections.editor) {
    const s = sections.editor as AnyRecord;
    const { conversion, process } = s;
    lines.push(`**6. ${s.title}** — targets: ${s.targets}`, '', '| measure | median | p95 |', '|---|---:|---:|');
    lines.push(`| convert ${conversion.nodes} editor nodes (definitions already parsed), ms | ${fmt(conversion.convertMs.median, 2)} | ${fmt(conversion.convertMs.p95, 2)} |`);
    lines.push(`| parse the cached definitions and convert, ms | ${fmt(conversion.parseAndConvertMs.median, 2)} | ${fmt(conversion.parseAndConvertMs.p95, 2)} |`);
    lines.push(`| pyros run, API format, ms | ${fmt(process.api.median)} | ${fmt(process.api.p95)} |`);
    lines.push(`| pyros run, editor format (cached definitions), ms | ${fmt(process.editor.median)} | ${fmt(process.editor.p95)} |`);
    lines.push('', `Editor format ÷ API format: ${times(process.ratio)} (${process.runs} runs each${process.failures ? `, ${process.failures} failed` : ''})`, '');
  }
  if (sections.scale) {
    const s = sections.scale as AnyRecord;
    lines.push(`**7. ${s.title}** — ${s.note}; targets: ${s.targets}`, '');
    lines.push(
      '| servers | jobs | seconds | jobs/s | ideal jobs/s | server job ms | servers busy | client CPU ms/job | client CPU | sim CPU ms/job | sim CPU | peak RSS MB | bottleneck |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    const pct = (value: unknown): string => (typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value * 100)}%` : '–');
    for (const run of s.runs as AnyRecord[]) {
      const verdict = run.ok ? run.bottleneck : `**failed**: ${String(run.error ?? '').slice(0, 120).replaceAll('|', '/')}`;
      lines.push(
        `| ${run.servers} | ${Number(run.jobs).toLocaleString('en-US')} | ${fmt(run.seconds, 1)} | ${fmt(run.jobsPerSecond)} | ${fmt(run.idealJobsPerSecond)} (${pct(run.efficiency)}) | ${fmt(run.serverJobMs, 1)} | ${pct(run.serversBusy)} | ${fmt(run.clientCpuMsPerJob, 2)} | ${pct(run.clientUtilisation)} | ${fmt(run.simCpuMsPerJob, 2)} | ${pct(run.simUtilisation)} | ${fmt(run.rssMb, 0)} | ${verdict} |`,
      );
    }
    const summary = s.summary as AnyRecord;
    lines.push('');
    for (const entry of summary.scaling as AnyRecord[]) lines.push(`- Scaling, ${Number(entry.jobs).toLocaleString('en-US')} jobs, ${entry.from} → ${entry.to} servers: ${times(entry.measured)} (ideal ${times(entry.ideal)})`);
    for (const entry of summary.memory as AnyRecord[]) {
      lines.push(
        `- Peak RSS, ${Number(entry.from).toLocaleString('en-US')} → ${Number(entry.to).toLocaleString('en-US')} jobs (${entry.servers} servers): ${fmt(entry.fromMb, 1)} → ${fmt(entry.toMb, 1)} MB, ${entry.growthMb >= 0 ? '+' : ''}${fmt(entry.growthMb, 1)} MB (${fmt(entry.perThousandJobsMb, 2)} MB per 1,000 jobs; target: 6,000 within 20 MB of 600)`,
      );
    }
    const longest = summary.longest as AnyRecord | null;
    lines.push(
      `- Client CPU per job: ${fmt(longest?.clientCpuMsPerJob, 2)} ms over the longest batch (${Number(longest?.jobs).toLocaleString('en-US')} jobs, ${longest?.servers} servers), ${fmt(summary.minClientCpuMsPerJob, 2)}–${fmt(summary.maxClientCpuMsPerJob, 2)} ms over all runs (target < 2 ms)${summary.failures ? `; **${summary.failures} run(s) failed**` : ''}`,
    );
    lines.push(
      `- Ideal jobs/s = servers × 1000 / (${s.steps} × ${s.stepMs} ms), the sampler's sleep alone (the percentage: jobs/s ÷ ideal). Server job ms and servers busy come from the simulators' history (execution_start → execution_success, and the wait before the next job; ${s.historySample} jobs per server from the middle of the batch). CPU is the share of one core; client CPU includes the process's start-up.`,
      `- ${s.rule[0].toUpperCase()}${s.rule.slice(1)}.`,
    );
  }
  return lines.join('\n').trimEnd();
}

function chartPanels(sections: AnyRecord): Panel[] {
  const panels: Panel[] = [];
  const kindOf = (c: AnyRecord, ok: boolean): Panel['bars'][number]['kind'] => (!ok ? 'failed' : c.kind);
  if (sections.perJob) {
    panels.push({
      title: '1. per job (library): median ms, lower is better',
      bars: (sections.perJob.clients as AnyRecord[]).map((c) => ({ label: short(c.name), value: c.summary.median, text: `${fmt(c.summary.median, 2)} ms  ${times(c.ratio)}`, kind: kindOf(c, c.summary.n > 0) })),
    });
  }
  if (sections.process) {
    const clients = sections.process.clients as AnyRecord[];
    panels.push({ title: '2. whole process: median ms', bars: clients.map((c) => ({ label: short(c.name), value: c.wall.median, text: `${fmt(c.wall.median)} ms  ${times(c.ratio)}`, kind: kindOf(c, c.wall.n > 0) })) });
    panels.push({ title: '2. whole process: peak RSS MB', bars: clients.map((c) => ({ label: short(c.name), value: c.rssMb.median, text: `${fmt(c.rssMb.median)} MB  ${times(c.rssRatio)}`, kind: kindOf(c, c.rssMb.n > 0) })) });
  }
  for (const size of (sections.memory?.sizes ?? []) as AnyRecord[]) {
    panels.push({
      title: `3. memory: peak RSS MB, one ${size.label} output`,
      bars: (size.clients as AnyRecord[]).map((c) => ({ label: short(c.name), value: c.rssMb.median, text: c.rssMb.n > 0 ? `${fmt(c.rssMb.median, 0)} MB` : 'failed', kind: kindOf(c, c.rssMb.n > 0) })),
    });
  }
  if (sections.throughput) {
    panels.push({
      title: `4. throughput: jobs/s (scaling ${times(sections.throughput.scaling)})`,
      bars: (sections.throughput.runs as AnyRecord[]).map((run) => ({ label: `${run.servers} server${run.servers === 1 ? '' : 's'}`, value: run.jobsPerSecond, text: `${fmt(run.jobsPerSecond)} jobs/s`, kind: 'pyros' })),
    });
  }
  if (sections.coldStart) {
    panels.push({
      title: '5. cold start: median ms',
      bars: (sections.coldStart.commands as AnyRecord[]).map((c) => ({ label: short(c.name), value: c.wall.median, text: `${fmt(c.wall.median)} ms  ${times(c.ratio)}`, kind: c.kind })),
    });
  }
  if (sections.scale) {
    const runs = sections.scale.runs as AnyRecord[];
    panels.push({
      title: '7. scale: jobs/s (ideal in brackets)',
      bars: runs.map((run) => ({ label: `${run.servers} srv ${run.jobs}`, value: run.jobsPerSecond, text: run.ok ? `${fmt(run.jobsPerSecond)} (${fmt(run.idealJobsPerSecond, 0)})  ${run.bottleneck}` : 'failed', kind: run.ok ? 'pyros' : 'failed' })),
    });
    panels.push({
      title: '7. scale: client CPU ms per job (target: under 2)',
      bars: runs.map((run) => ({ label: `${run.servers} srv ${run.jobs}`, value: run.clientCpuMsPerJob ?? Number.NaN, text: `${fmt(run.clientCpuMsPerJob, 2)} ms  sim ${fmt(run.simCpuMsPerJob, 2)} ms`, kind: run.ok ? 'pyros' : 'failed' })),
    });
    panels.push({
      title: '7. scale: client peak RSS MB by batch length',
      bars: runs.map((run) => ({ label: `${run.servers} srv ${run.jobs}`, value: run.rssMb ?? Number.NaN, text: `${fmt(run.rssMb, 0)} MB`, kind: run.ok ? 'pyros' : 'failed' })),
    });
  }
  return panels;
}

function short(name: string): string {
  return name
    .replace('@saintno/comfyui-sdk', 'saintno sdk')
    .replace('@stable-canvas/comfyui-client', 'stable-canvas')
    .replace(' (CLI: pyros run)', ' cli')
    .replace('floor (ws + http)', 'floor')
    .replace('node -e "" (floor)', 'node (floor)');
}

main().catch((error: unknown) => {
  log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});

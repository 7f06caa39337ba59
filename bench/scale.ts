/**
 * 7. Scale: batches of tiny jobs with `pyros run --count N` over 1, 2, 4 and 8 simulators, and
 * batches of growing length. Per run: wall time, jobs/s against what the servers could do at
 * best, the client's CPU time per job (from /usr/bin/time), the simulator process's CPU time
 * (from /proc), the client's peak RSS, and which side held the run back.
 *
 * A simulator's job is wall-time bound like a GPU's: the sampler sleeps SCALE_STEPS × SCALE_STEP_MS
 * and the outputs are tiny, so the servers' ideal capacity is servers × 1000 / (steps × step ms)
 * jobs/s. All the simulators live in one process on the server's core, the client on its own.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measureProcess, pinned, processCpuSeconds } from './lib/proc.ts';
import type { SectionContext } from './lib/section.ts';
import { samplerWorkflow } from './lib/workflows.ts';
import { startSimProcess } from './lib/sim.ts';
import { round } from './lib/stats.ts';

export interface ScalePlan {
  /** Batch lengths, each run over these server counts. */
  runs: { jobs: number; servers: number[] }[];
  /** Jobs of the warm-up batch after each simulator start (not counted). */
  warmupJobs: number;
  note: string;
}

/** Sampler work of one tiny job: 3 steps of 10 ms (30 ms on the server, about 33 jobs/s per server). */
export const SCALE_STEP_MS = 10;
export const SCALE_STEPS = 3;

/** The rule that names the bottleneck of a run (also printed with the table). */
export const BOTTLENECK_RULE =
  'bottleneck: "client" when the client used ≥ 85% of its core, else "simulator process" when the simulators\' process used ≥ 85% of its core, ' +
  'else "servers" when the servers were busy ≥ 90% of the time (a job always waiting in their queue), else "latency" (no core saturated, yet the servers waited for work)';

const CPU_SATURATED = 0.85;
const SERVERS_BUSY = 0.9;
/** Jobs per server read back from the middle of its history for the server-side times. */
const HISTORY_SAMPLE = 200;

export interface ScaleRun {
  servers: number;
  jobs: number;
  ok: boolean;
  exitCode: number | null;
  /** Images saved in the output folder (one per job when all went well). */
  files: number;
  seconds: number;
  jobsPerSecond: number;
  idealJobsPerSecond: number;
  /** jobs/s ÷ the ideal. */
  efficiency: number;
  clientCpuSeconds: number | null;
  clientCpuMsPerJob: number | null;
  /**
   * On the servers (a sample of HISTORY_SAMPLE jobs from the middle of each one's history): mean
   * time from execution_start to execution_success, mean wait from one job's end to the next's
   * start, and the share of the time they were busy.
   */
  serverJobMs: number | null;
  serverGapMs: number | null;
  serversBusy: number | null;
  /** Client CPU ÷ wall time (1 = one full core). */
  clientUtilisation: number | null;
  simCpuSeconds: number | null;
  simCpuMsPerJob: number | null;
  simUtilisation: number | null;
  rssMb: number | null;
  bottleneck: string;
  error?: string;
}

function scaleWorkflow(): Record<string, unknown> {
  return samplerWorkflow({ seed: 1, steps: SCALE_STEPS, size: 16, text: 'a tiny job', prefix: 'scale' });
}

export function bottleneckOf(run: { ok: boolean; serversBusy: number | null; clientUtilisation: number | null; simUtilisation: number | null }): string {
  if (!run.ok) return 'failed';
  if (run.clientUtilisation !== null && run.clientUtilisation >= CPU_SATURATED) return 'client';
  if (run.simUtilisation !== null && run.simUtilisation >= CPU_SATURATED) return 'simulator process';
  if (run.serversBusy === null) return 'unknown';
  return run.serversBusy >= SERVERS_BUSY ? 'servers' : 'latency';
}

type HistoryEntry = { status?: { messages?: [string, { timestamp?: number }][] } };

/** Execution times and the waits between jobs, from a sample of each server's history. */
async function serverTimes(urls: string[], perServer: number): Promise<{ jobMs: number; gapMs: number; busy: number } | undefined> {
  let busyMs = 0;
  let gapMs = 0;
  let jobs = 0;
  let gaps = 0;
  for (const url of urls) {
    // The simulator keeps the last 10,000 prompts, oldest first.
    const offset = Math.max(0, Math.floor(Math.min(perServer, 10_000) / 2) - HISTORY_SAMPLE / 2);
    const answer = await fetch(`${url}/history?max_items=${HISTORY_SAMPLE}&offset=${offset}`).catch(() => undefined);
    if (!answer?.ok) return undefined;
    const entries = Object.values((await answer.json()) as Record<string, HistoryEntry>);
    const spans = entries
      .flatMap((entry) => {
        const messages = entry.status?.messages ?? [];
        const start = messages.find(([event]) => event === 'execution_start')?.[1].timestamp;
        const end = messages.find(([event]) => event === 'execution_success')?.[1].timestamp;
        return start !== undefined && end !== undefined ? [{ start, end }] : [];
      })
      .sort((a, b) => a.start - b.start);
    for (const [i, span] of spans.entries()) {
      busyMs += span.end - span.start;
      jobs++;
      const next = spans[i + 1];
      if (next) {
        gapMs += Math.max(0, next.start - span.end);
        gaps++;
      }
    }
  }
  if (jobs === 0 || gaps === 0) return undefined;
  const jobMs = busyMs / jobs;
  const meanGap = gapMs / gaps;
  return { jobMs, gapMs: meanGap, busy: jobMs / (jobMs + meanGap) };
}

async function countImages(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.png')).length;
}

export async function scaleSection(options: SectionContext & { plan: ScalePlan }): Promise<Record<string, unknown>> {
  const { plan, pinning, root, work, env, log } = options;
  const workflowFile = join(work, 'scale.json');
  await writeFile(workflowFile, JSON.stringify(scaleWorkflow()));
  const jobMs = SCALE_STEPS * SCALE_STEP_MS;
  const runs: ScaleRun[] = [];
  let seed = 1;
  for (const { jobs, servers: counts } of plan.runs) {
    for (const servers of counts) {
      const ideal = (servers * 1000) / jobMs;
      log(`7. scale: ${jobs.toLocaleString('en-US')} jobs through ${servers} simulator${servers === 1 ? '' : 's'} (ideal ${round(ideal, 1)} jobs/s, about ${Math.ceil(jobs / ideal)} s)`);
      const simData = join(work, 'scale-sim');
      await mkdir(simData, { recursive: true });
      const sim = await startSimProcess({ root, core: pinning.server, instances: servers, stepMs: SCALE_STEP_MS, dataDir: simData });
      const out = join(work, `scale-${servers}-${jobs}`);
      try {
        const command = (count: number, from: number, dir: string): string[] =>
          pinned(pinning.client, [process.execPath, join(root, 'bin/pyros.js'), 'run', workflowFile, '--count', String(count), '--seed', `${from}+`, ...sim.urls.flatMap((url) => ['--server', url]), '-o', dir]);
        // Warm-up (the simulators' first jobs), not counted.
        const warmDir = join(work, 'scale-warm');
        const warm = await measureProcess(command(plan.warmupJobs, 1_000_000_000 + seed, warmDir), { env, timeoutMs: 60_000 });
        await rm(warmDir, { recursive: true, force: true });
        if (!warm.ok) log(`   warm-up failed (exit ${warm.code}): ${warm.stderrTail.trim().split('\n').slice(-2).join(' | ')}`);
        const simBefore = await processCpuSeconds(sim.pid);
        const measured = await measureProcess(command(jobs, seed, out), { env, timeoutMs: Math.round(60_000 + (3 * jobs * 1000) / ideal) });
        const simAfter = await processCpuSeconds(sim.pid);
        const onServers = await serverTimes(sim.urls, Math.floor((jobs + plan.warmupJobs) / servers));
        seed += jobs;
        const files = await countImages(out);
        const seconds = measured.ms / 1000;
        const jobsPerSecond = jobs / seconds;
        const simCpu = simBefore !== undefined && simAfter !== undefined ? simAfter - simBefore : undefined;
        const ok = measured.ok && files === jobs;
        const run: ScaleRun = {
          servers,
          jobs,
          ok,
          exitCode: measured.code,
          files,
          seconds: round(seconds, 3),
          jobsPerSecond: round(jobsPerSecond, 1),
          idealJobsPerSecond: round(ideal, 1),
          efficiency: round(jobsPerSecond / ideal, 3),
          serverJobMs: onServers === undefined ? null : round(onServers.jobMs, 2),
          serverGapMs: onServers === undefined ? null : round(onServers.gapMs, 2),
          serversBusy: onServers === undefined ? null : round(onServers.busy, 3),
          clientCpuSeconds: measured.cpuSeconds === undefined ? null : round(measured.cpuSeconds, 2),
          clientCpuMsPerJob: measured.cpuSeconds === undefined ? null : round((measured.cpuSeconds * 1000) / jobs, 3),
          clientUtilisation: measured.cpuSeconds === undefined ? null : round(measured.cpuSeconds / seconds, 3),
          simCpuSeconds: simCpu === undefined ? null : round(simCpu, 2),
          simCpuMsPerJob: simCpu === undefined ? null : round((simCpu * 1000) / jobs, 3),
          simUtilisation: simCpu === undefined ? null : round(simCpu / seconds, 3),
          rssMb: measured.rssMb === undefined ? null : round(measured.rssMb, 1),
          bottleneck: '',
        };
        run.bottleneck = bottleneckOf(run);
        if (!ok) {
          const why = measured.ok ? `exit 0 but ${files} of ${jobs} images saved` : `exit ${measured.code}`;
          run.error = `${why}: ${measured.stderrTail.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`;
          log(`   failed: ${run.error}`);
        }
        log(
          `   ${run.seconds} s, ${run.jobsPerSecond} jobs/s of ${run.idealJobsPerSecond}, servers busy ${run.serversBusy ?? '?'} (job ${run.serverJobMs ?? '?'} ms, gap ${run.serverGapMs ?? '?'} ms), client ${run.clientCpuMsPerJob ?? '?'} ms CPU/job, ` +
            `simulators ${run.simCpuMsPerJob ?? '?'} ms CPU/job, peak RSS ${run.rssMb ?? '?'} MB: ${run.bottleneck}`,
        );
        runs.push(run);
      } finally {
        await sim.stop();
        await rm(out, { recursive: true, force: true });
        await rm(simData, { recursive: true, force: true });
      }
    }
  }
  return {
    title: `Scale: tiny jobs with pyros run --count over 1–8 simulators (${SCALE_STEPS} steps × ${SCALE_STEP_MS} ms each, 16×16 PNG)`,
    note: plan.note,
    targets: 'client CPU < 2 ms per job; jobs/s scaling with the servers; peak RSS of 6,000 jobs within 20 MB of 600 jobs',
    rule: BOTTLENECK_RULE,
    historySample: HISTORY_SAMPLE,
    stepMs: SCALE_STEP_MS,
    steps: SCALE_STEPS,
    warmupJobs: plan.warmupJobs,
    runs,
    summary: summarizeScale(runs),
  };
}

/** Scaling between server counts and memory growth between batch lengths. */
export function summarizeScale(runs: ScaleRun[]): Record<string, unknown> {
  const good = runs.filter((run) => run.ok);
  const lengths = [...new Set(runs.map((run) => run.jobs))].sort((a, b) => a - b);
  // Scaling: for each length, jobs/s at the most servers ÷ at the fewest.
  const scaling = lengths.flatMap((jobs) => {
    const same = good.filter((run) => run.jobs === jobs).sort((a, b) => a.servers - b.servers);
    const first = same[0];
    const last = same.at(-1);
    if (!first || !last || first === last) return [];
    return [{ jobs, from: first.servers, to: last.servers, ideal: round(last.servers / first.servers, 2), measured: round(last.jobsPerSecond / first.jobsPerSecond, 2) }];
  });
  // Memory: between consecutive lengths, at a server count both were run with (the most).
  const memory = lengths.slice(1).flatMap((jobs, i) => {
    const shorter = lengths[i] as number;
    const servers = [...new Set(good.filter((run) => run.jobs === jobs).map((run) => run.servers))].filter((count) => good.some((run) => run.jobs === shorter && run.servers === count));
    const count = Math.max(...servers);
    const a = good.find((run) => run.jobs === shorter && run.servers === count);
    const b = good.find((run) => run.jobs === jobs && run.servers === count);
    if (!a || !b || a.rssMb === null || b.rssMb === null) return [];
    const growth = b.rssMb - a.rssMb;
    return [{ servers: count, from: shorter, to: jobs, fromMb: a.rssMb, toMb: b.rssMb, growthMb: round(growth, 1), perThousandJobsMb: round((growth * 1000) / (jobs - shorter), 3) }];
  });
  const cpu = good.flatMap((run) => (run.clientCpuMsPerJob === null ? [] : [run.clientCpuMsPerJob]));
  const longest = [...good].sort((a, b) => b.jobs - a.jobs || b.servers - a.servers)[0];
  return {
    minClientCpuMsPerJob: cpu.length > 0 ? Math.min(...cpu) : null,
    maxClientCpuMsPerJob: cpu.length > 0 ? Math.max(...cpu) : null,
    longest: longest ? { jobs: longest.jobs, servers: longest.servers, clientCpuMsPerJob: longest.clientCpuMsPerJob, rssMb: longest.rssMb } : null,
    clientBottlenecks: runs.filter((run) => run.bottleneck === 'client').length,
    failures: runs.filter((run) => !run.ok).length,
    scaling,
    memory,
  };
}

/**
 * Many jobs on the road at once, a bounded number at a time: a job starts (is prepared and
 * queued in the pool) only when fewer than `window` are under way, so a long batch holds only
 * the jobs in flight: an outcome goes to `finished` and is not kept.
 */
import { PipelineJob, type JobOutcome, type PipelineContext } from './pipeline-job.ts';
import type { JobSpec, RunPlan } from './plan.ts';

export interface RunJobsOptions {
  /** Jobs under way at most. */
  window: number;
  /** Called for every job as it starts, before it does anything. */
  started(job: PipelineJob): void;
  /** Called for every job once it has ended. */
  finished?(outcome: JobOutcome): void;
  /** No further job starts once this returns true (jobs under way go on). */
  stopped?(): boolean;
}

/** Runs the jobs; resolves with how many started, once every one has ended. */
export async function runJobs(context: PipelineContext, plan: RunPlan, specs: Iterable<JobSpec>, options: RunJobsOptions): Promise<number> {
  let started = 0;
  const running = new Set<Promise<void>>();
  for (const spec of specs) {
    if (options.stopped?.()) break;
    while (running.size >= Math.max(1, options.window)) await Promise.race(running);
    if (options.stopped?.()) break;
    const job = PipelineJob.submit(context, plan, spec);
    started += 1;
    options.started(job);
    const done = job.result.then((outcome) => {
      options.finished?.(outcome);
      running.delete(done);
    });
    running.add(done);
    // The next job goes into the pool's queue after this one.
    await job.queued;
  }
  await Promise.all(running);
  return started;
}

/**
 * Many jobs on the road at once, a bounded number at a time: a job starts (is prepared and
 * queued in the pool) only when fewer than `window` are under way, so a long batch holds only
 * the jobs in flight. Outcomes come back in job order.
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

export async function runJobs(context: PipelineContext, plan: RunPlan, specs: Iterable<JobSpec>, options: RunJobsOptions): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  const running = new Set<Promise<void>>();
  for (const spec of specs) {
    if (options.stopped?.()) break;
    while (running.size >= Math.max(1, options.window)) await Promise.race(running);
    if (options.stopped?.()) break;
    const job = PipelineJob.submit(context, plan, spec);
    options.started(job);
    const done = job.result.then((outcome) => {
      outcomes.push(outcome);
      options.finished?.(outcome);
      running.delete(done);
    });
    running.add(done);
    // The next job goes into the pool's queue after this one.
    await job.queued;
  }
  await Promise.all(running);
  return outcomes.sort((a, b) => a.index - b.index);
}

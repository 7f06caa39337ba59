/** The one road every front end takes: plan → prepare → dispatch → follow → save → outcome. */
export { PipelineJob, type JobOutcome, type JobSucceeded, type JobFailed, type PipelineContext, type PipelineJobEvents } from './pipeline-job.ts';
export { expandJobs, type JobSpec, type RunPlan, type SeedPolicy } from './plan.ts';
export { prepareJob, promptOf, type PreparedJob } from './prepare.ts';
export { recordExtraData, recordOf, type JobRecord } from './record.ts';
export { runJobs, type RunJobsOptions } from './run-jobs.ts';
export { sidecarContext, timingsOf } from './sidecar.ts';
export { retryReason, type RetryReason } from './retry.ts';

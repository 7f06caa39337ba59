/** The one road every front end takes: plan → prepare → dispatch → follow → save → outcome. */
export { PipelineJob, type JobOutcome, type JobSucceeded, type JobFailed, type PipelineContext, type PipelineJobEvents, type JobStart } from './pipeline-job.ts';
export { expandJobs, type JobSpec, type RunPlan, type SeedPolicy } from './plan.ts';
export { prepareJob, promptOf, type PreparedJob, type PrepareOptions } from './prepare.ts';
export { RunJournal, JOURNAL_FOLDER, journalFolder, lockPathOf, type JobRef } from './run-journal.ts';
export type { PlanRecipe } from './journal-entries.ts';
export { recordExtraData, recordOf, type JobRecord } from './record.ts';
export { runJobs, type RunJobsOptions } from './run-jobs.ts';
export { sidecarContext, timingsOf } from './sidecar.ts';
export { retryReason, type RetryReason } from './retry.ts';
export { endedForGood, outcomeEndedForGood, journalEnded, listJournals, readRunJournal, type JobState, type RunState } from './journal-state.ts';
export { decideStep, type ResumeStep, type ResumeLookup } from './resume.ts';
export { JobEnds, type JobEndsSource } from './journal-ends.ts';
export { EndTally } from './end-tally.ts';
export { doneEntry } from './run-journal.ts';
export type { DoneEntry } from './journal-entries.ts';

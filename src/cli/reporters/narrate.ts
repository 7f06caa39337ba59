/**
 * What a person (or a script) hears of one job on the pipeline: its patches, uploads, prompt id,
 * retries, progress and saved files, told through a Reporter. Every front end uses this.
 */
import type { PipelineJob, PreparedJob, RetryReason } from '../../pipeline/index.ts';
import type { JobSource } from '../../ui/display-core.ts';
import { reportExpansion, reportPatches } from '../patch-notes.ts';
import type { Reporter } from './reporter.ts';

const RETRY_REASONS: Record<RetryReason, string> = {
  lost: 'the server lost the prompt',
  'not-sent': 'the connection failed before the prompt was submitted',
  'not-queued': 'the answer to the submission was lost and the server does not have the prompt',
};

export interface NarrateOptions {
  /** Tells which inputs this job patches; default: every patch (a batch tells them once for all instead). */
  patches?: (prepared: PreparedJob, reporter: Reporter) => void;
  /** Shown while connecting: the server, or how many. */
  connectingTo?: string;
}

/** The job as the display follows it: its events until its run on the server ends. */
export function runSource(job: PipelineJob): JobSource {
  return {
    get promptId() {
      return job.promptId;
    },
    result: job.ran,
    on: (event, listener) => job.on(event, listener as never),
    off: (event, listener) => job.off(event, listener as never),
  };
}

export function narrateJob(job: PipelineJob, reporter: Reporter, options: NarrateOptions = {}): void {
  const underWay = (): void => {
    reporter.follow(runSource(job));
    reporter.phase('connecting', options.connectingTo === undefined ? undefined : { text: options.connectingTo });
  };
  // Nothing is shown as under way until the job is ready to go: a bad option is just an error.
  if (job.followsPrompt) underWay();
  job.on('prepared', (prepared) => {
    if (options.patches) options.patches(prepared, reporter);
    else reportPatches(reporter, prepared.patched);
    reportExpansion(reporter, prepared.expansion);
    underWay();
  });
  job.on('dispatched', (info) => reporter.dispatched(info));
  job.on('moved', (info) => reporter.moved(info));
  job.on('uploaded', (upload) => {
    if (upload.reused) return;
    const target = `#${upload.nodeId} ${describeNode(job, upload.nodeId)}.${upload.input}`;
    reporter.note(`input ${upload.path} → ${target} (uploaded as ${upload.name})`, {
      kind: 'input',
      path: upload.path,
      node_id: upload.nodeId,
      input: upload.input,
      uploaded_as: upload.name,
      value: upload.value,
    });
  });
  job.on('retrying', (info) => {
    reporter.note(`resubmitting in ${(info.delayMs / 1000).toFixed(1)} s (retry ${info.attempt} of ${info.retries}): ${(info.error as Error).message}`, {
      kind: 'retry',
      attempt: info.attempt,
      retries: info.retries,
      reason: RETRY_REASONS[info.reason],
      delay_ms: info.delayMs,
      prompt_id: info.promptId,
    });
  });
  job.on('saving', (info) => reporter.phase('downloading', info));
  job.on('saved', (file) => reporter.saved(file));
}

function describeNode(job: PipelineJob, nodeId: string): string {
  const node = job.workflow?.[nodeId];
  const title = node?._meta?.title || node?.class_type || nodeId;
  return `"${title}"`;
}

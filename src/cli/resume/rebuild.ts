/**
 * A run read back from its journal, made ready to go on: its plans (the recorded workflow, patched
 * as the run patched it), the servers to ask (those the run used, with the credentials the
 * configuration gives them), and each job as its plan knows it.
 */
import { parseEndpoint } from '../../client/endpoint.ts';
import type { PlanEntry } from '../../pipeline/journal-entries.ts';
import type { JobSpec, PrepareOptions, RunPlan, RunState, JobState } from '../../pipeline/index.ts';
import type { CommonFlags } from '../context.ts';
import { patchFlags } from '../patch-flags.ts';

export function rebuildPlan(entry: PlanEntry, outputDir: string, retries: number | undefined): RunPlan {
  const { recipe } = entry;
  return {
    workflow: entry.workflow,
    workflowFile: entry.workflowFile,
    patch: (graph, job) => patchFlags(graph, { prompt: job.prompt, seed: job.seed, promptInput: recipe.promptInput, seedInput: recipe.seedInput, sets: recipe.sets }),
    uploads: entry.uploads.map((upload) => ({ ...upload, folder: upload.folder ?? 'input' })),
    variableDirs: () => entry.variableDirs,
    outputDir,
    timeoutMs: entry.timeoutMs,
    retries: retries ?? entry.retries,
    total: entry.total,
    recipe,
    ...(entry.front ? { front: true } : {}),
    ...(entry.outputs ? { outputs: entry.outputs } : {}),
    ...(entry.editor ? { editor: { workflow: entry.editor } } : {}),
  };
}

/** The job as its plan made it: its index in the plan, prompt and seed. */
export function specOf(job: JobState): JobSpec {
  return { index: job.index, prompt: job.prompt, seed: job.seed };
}

/** A job prepared before the kill keeps the variable choices it was submitted with. */
export function prepareOptionsOf(job: JobState): PrepareOptions | undefined {
  const variables = job.prepared?.variables;
  const text = job.prepared?.prompt?.text;
  if (!variables || text === undefined) return undefined;
  return { variables: { expansion: { text, template: variables.template, choices: variables.choices }, seed: variables.seed } };
}

/**
 * The servers of a resumed run: every server its journal names (where its prompts are), under
 * the address the configuration gives it when that is the same server (credentials in the URL),
 * plus the servers given on the command line or in COMFYUI_URL (for the jobs never submitted).
 */
export function resumeServers(state: RunState, configured: readonly string[], explicit: boolean): string[] {
  const named = new Set<string>(state.run.servers);
  for (const job of state.jobs) {
    for (const attempt of job.attempts) named.add(attempt.server);
    if (job.finished) named.add(job.finished.server);
  }
  const byDisplay = new Map<string, string>();
  for (const server of configured) byDisplay.set(displayOf(server), server);
  const servers = new Map<string, string>();
  if (explicit) for (const server of configured) servers.set(displayOf(server), server);
  for (const display of named) if (!servers.has(display)) servers.set(display, byDisplay.get(display) ?? display);
  return [...servers.values()];
}

export function displayOf(server: string): string {
  try {
    return parseEndpoint(server).display;
  } catch {
    return server;
  }
}

/** Whether the servers were given for this command (flags or COMFYUI_URL), not only by the config file. */
export function serversGiven(flags: CommonFlags, env: NodeJS.ProcessEnv): boolean {
  return Boolean(flags.server?.length) || Boolean(env.COMFYUI_URL?.trim());
}

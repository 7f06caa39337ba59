/**
 * What a resumed run does with each job of its journal, decided by asking the servers about
 * every prompt the job was submitted as (its id was recorded before the server could have it):
 *
 *   ended     it ended for good before: nothing
 *   saved     it finished and every output is saved: only its end is recorded
 *   follow    a server has it (queued, running or finished): followed, and what is not saved yet is saved
 *   submit    no server ever had it (it never reached one, or its server forgot it): submitted
 *   waiting   its server cannot be asked now: left for a later resume (submitting could run it twice)
 *
 * A job submitted more than once (moved off a server, retried) is followed where it got furthest
 * (finished, else running, else queued); its other prompts still queued or running are removed
 * or interrupted, so that it never runs twice where the servers can be asked.
 */
import type { Client } from '../client/client.ts';
import { lookUpPrompt } from '../client/lost-answer.ts';
import { endedForGood, type JobState } from './journal-state.ts';

export type ResumeStep =
  | { kind: 'ended' }
  | { kind: 'saved'; promptId: string; server: string }
  | { kind: 'follow'; promptId: string; server: string }
  | { kind: 'submit' }
  | { kind: 'waiting'; promptId: string; server: string };

type Where = 'done' | 'failed' | 'running' | 'pending' | 'absent' | 'unreachable';

/** How sure a follow is to give the job's outputs: finished well first, then running, queued, finished badly. */
const RANK: Record<Where, number> = { done: 0, running: 1, pending: 2, failed: 3, absent: 4, unreachable: 5 };

export interface ResumeLookup {
  /** The client of a server named in the journal (undefined: not one the resume can reach). */
  clientOf(server: string): Client | undefined;
  /** How long the last prompt of a job is looked for before it counts as absent (its POST may still be arriving). */
  lostAnswerCheckMs?: number;
}

export async function decideStep(job: JobState, lookup: ResumeLookup): Promise<ResumeStep> {
  if (endedForGood(job.done)) return { kind: 'ended' };
  const finished = job.finished;
  if (finished) {
    const saved = job.saved ?? new Map();
    const latest = job.attempts.at(-1);
    // Run again elsewhere after its outputs were lost with its server: the later prompt is the one.
    if (!latest || latest.promptId === finished.prompt_id) {
      if (finished.outputs.every(([key]) => saved.has(key))) return { kind: 'saved', promptId: finished.prompt_id, server: finished.server };
      await dropOthers(job, finished.prompt_id, lookup);
      return { kind: 'follow', promptId: finished.prompt_id, server: finished.server };
    }
  }
  if (job.attempts.length === 0) return { kind: 'submit' };

  const places = await Promise.all(
    job.attempts.map(async (attempt, at) => ({ ...attempt, where: await whereIs(attempt, lookup, at === job.attempts.length - 1) })),
  );
  // A job cancelled here (the server confirmed it stopped) runs again: its interrupted prompt is not its result.
  const cancelled = job.done?.kind === 'cancelled';
  const found = places.filter((place) => place.where !== 'absent' && place.where !== 'unreachable' && !(cancelled && place.where === 'failed'));
  if (found.length === 0) {
    // Submitting again is safe only when every server it went to answers without it.
    const unreachable = places.find((place) => place.where === 'unreachable');
    return unreachable ? { kind: 'waiting', promptId: unreachable.promptId, server: unreachable.server } : { kind: 'submit' };
  }
  // Following runs nothing new. The best place; among equals the latest submission.
  const best = found.reduce((chosen, place) => (RANK[place.where] <= RANK[chosen.where] ? place : chosen));
  await dropOthers(job, best.promptId, lookup);
  return { kind: 'follow', promptId: best.promptId, server: best.server };
}

async function whereIs(attempt: { promptId: string; server: string }, lookup: ResumeLookup, latest: boolean): Promise<Where> {
  const client = lookup.clientOf(attempt.server);
  if (!client) return 'unreachable';
  const api = client.api;
  try {
    const history = await api.history(attempt.promptId, AbortSignal.timeout(10_000));
    if (history) return history.status?.status_str === 'success' ? 'done' : 'failed';
    const queue = await api.queue(AbortSignal.timeout(10_000));
    if (queue.running.some((entry) => entry.promptId === attempt.promptId)) return 'running';
    if (queue.pending.some((entry) => entry.promptId === attempt.promptId)) return 'pending';
  } catch {
    return 'unreachable';
  }
  if (!latest) return 'absent';
  // The last submission: the killed process's POST may still be on its way in. Look again briefly.
  const again = await lookUpPrompt(api, attempt.promptId, {
    budgetMs: lookup.lostAnswerCheckMs ?? 1_500,
    pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    stopped: () => false,
  });
  if (again === 'found') return whereIs(attempt, lookup, false);
  return again === 'absent' ? 'absent' : 'unreachable';
}

/** Removes (or interrupts) the job's other prompts still queued (or running) on servers that answer. */
async function dropOthers(job: JobState, keep: string, lookup: ResumeLookup): Promise<void> {
  for (const attempt of job.attempts) {
    if (attempt.promptId === keep) continue;
    const api = lookup.clientOf(attempt.server)?.api;
    if (!api) continue;
    try {
      const queue = await api.queue(AbortSignal.timeout(10_000));
      if (queue.pending.some((entry) => entry.promptId === attempt.promptId)) await api.deleteFromQueue([attempt.promptId]);
      const now = await api.queue(AbortSignal.timeout(10_000));
      if (now.running.some((entry) => entry.promptId === attempt.promptId)) await api.interrupt(attempt.promptId);
    } catch {
      // Its server does not answer: it was given up on when it failed, and cannot be told now.
    }
  }
}

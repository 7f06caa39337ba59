/**
 * What a run keeps of its jobs once they have ended: how many did, whether every one ended for
 * good, and (only once its journal could not be written, e.g. the disk is full) the ends the
 * journal lacks. The rest is read back from the journal (see JobEnds).
 */
import type { DoneEntry } from './journal-entries.ts';
import { outcomeEndedForGood } from './journal-state.ts';
import type { JobOutcome } from './pipeline-job.ts';
import { doneEntry, type JobRef, type RunJournal } from './run-journal.ts';

export class EndTally {
  ended = 0;
  private forGood = true;
  private readonly journal: RunJournal | undefined;
  /** Ends the journal could not take, by their place in the run's listing. */
  readonly unwritten = new Map<number, DoneEntry>();

  constructor(journal: RunJournal | undefined) {
    this.journal = journal;
  }

  add(outcome: JobOutcome, where: { slot: number; ref: JobRef }): void {
    this.ended += 1;
    if (!outcomeEndedForGood(outcome)) this.forGood = false;
    if (this.journal?.writeFailure !== undefined) this.unwritten.set(where.slot, doneEntry(where.ref, outcome));
  }

  /** Every one of `total` jobs ended, for good: a resume has nothing left to do. */
  everyJobEnded(total: number): boolean {
    return this.ended === total && this.forGood;
  }
}

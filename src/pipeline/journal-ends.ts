/**
 * The ends of a run's jobs read back from its journal, in the order of the run rather than the
 * order in which they ended. One pass finds where each job's `done` entry lies (one number per
 * job); the entries are then read one at a time. A long batch holds that index, never the
 * entries, so that its summary costs the same memory for 600 jobs as for 100,000.
 */
import { JournalLineReader, scanJournalLines } from '../outputs/journal-file.ts';
import type { DoneEntry } from './journal-entries.ts';

/** Entries are written with their type first: lines of other types are skipped undecoded. */
const DONE_PREFIX = '{"type":"done",';

export interface JobEndsSource {
  /** The journal, and where the entries of interest start (a line start; 0 for the whole run). */
  path: string;
  from?: number;
  /** Places in the listing. */
  slots: number;
  /** The place of a job in the listing, or undefined when it is not listed. */
  slotOf(plan: number, job: number): number | undefined;
  /** Ends the journal could not take (its disk was full), by place. */
  unwritten?: ReadonlyMap<number, DoneEntry>;
}

export class JobEnds {
  private readonly path: string;
  /** Byte offset of each place's `done` entry; -1: none in the journal. */
  private readonly offsets: Float64Array;
  private readonly unwritten: ReadonlyMap<number, DoneEntry>;

  private constructor(path: string, offsets: Float64Array, unwritten: ReadonlyMap<number, DoneEntry>) {
    this.path = path;
    this.offsets = offsets;
    this.unwritten = unwritten;
  }

  /** Indexes the `done` entries of the listed jobs (the last one of a job counts). */
  static async read(source: JobEndsSource): Promise<JobEnds> {
    const offsets = new Float64Array(source.slots).fill(-1);
    await scanJournalLines(source.path, { from: source.from ?? 0, prefix: DONE_PREFIX }, (text, _line, offset) => {
      const entry = JSON.parse(text) as Pick<DoneEntry, 'plan' | 'job'>;
      const slot = source.slotOf(entry.plan, entry.job);
      if (slot !== undefined && slot >= 0 && slot < source.slots) offsets[slot] = offset;
    });
    const unwritten = new Map([...(source.unwritten ?? [])].filter(([slot]) => slot >= 0 && slot < source.slots && offsets[slot] === -1));
    return new JobEnds(source.path, offsets, unwritten);
  }

  /** Jobs listed that have ended. */
  get size(): number {
    let count = this.unwritten.size;
    for (const offset of this.offsets) if (offset >= 0) count += 1;
    return count;
  }

  /** The ended jobs in the order of their places, read one at a time. */
  async *entries(): AsyncGenerator<{ entry: DoneEntry; slot: number }> {
    const reader = new JournalLineReader(this.path);
    try {
      for (let slot = 0; slot < this.offsets.length; slot++) {
        const offset = this.offsets[slot] as number;
        const entry = offset >= 0 ? ((await reader.at(offset)) as DoneEntry) : this.unwritten.get(slot);
        if (entry) yield { entry, slot };
      }
    } finally {
      await reader.close();
    }
  }
}

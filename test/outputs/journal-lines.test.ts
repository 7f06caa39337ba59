/**
 * Reading a journal back one line at a time (what keeps a long batch's summary out of memory),
 * and which appends reach the disk before they resolve.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JournalFile, JournalLineReader, scanJournalLines } from '../../src/outputs/journal-file.ts';
import { JobEnds } from '../../src/pipeline/journal-ends.ts';
import type { DoneEntry } from '../../src/pipeline/journal-entries.ts';

function done(plan: number, job: number, extra: Partial<DoneEntry> = {}): DoneEntry {
  return { type: 'done', plan, job, ok: true, prompt_id: `p-${plan}-${job}`, ...extra };
}

describe('journal lines', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pyros-journal-lines-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scans from a line start, skips lines without the prefix, and gives offsets a reader parses back', async () => {
    const path = join(dir, 'scan.ndjson');
    const lines = [{ type: 'run', run: 'r' }, done(0, 0), { type: 'saved', plan: 0, job: 1 }, done(0, 1), { type: 'x', long: 'y'.repeat(200_000) }, done(0, 2)];
    const text = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
    await writeFile(path, `${text}{"type":"done","plan":0,"job":3`); // the last line was cut
    const firstLength = Buffer.byteLength(`${JSON.stringify(lines[0])}\n`);

    const seen: { text: string; line: number; offset: number }[] = [];
    const result = await scanJournalLines(path, { from: firstLength, prefix: '{"type":"done",' }, (lineText, line, offset) => seen.push({ text: lineText, line, offset }));
    assert.deepEqual(
      seen.map((entry) => JSON.parse(entry.text).job),
      [0, 1, 2],
      'only the complete done lines',
    );
    assert.deepEqual(
      seen.map((entry) => entry.line),
      [1, 3, 5],
      'lines are counted from `from`',
    );
    assert.equal(result.validBytes, Buffer.byteLength(text));
    assert.ok(result.cutBytes > 0, 'the cut line is reported as cut');

    const reader = new JournalLineReader(path);
    try {
      // Out of order, and across the 200 KB line that does not fit the reader's first window.
      for (const entry of [seen[2], seen[0], seen[1], seen[2]]) assert.deepEqual(await reader.at(entry!.offset), JSON.parse(entry!.text));
      const longOffset = seen[1]!.offset + Buffer.byteLength(`${seen[1]!.text}\n`);
      assert.equal(((await reader.at(longOffset)) as { long: string }).long.length, 200_000);
      await assert.rejects(reader.at(Buffer.byteLength(text)), /no complete line at byte/);
    } finally {
      await reader.close();
    }
  });

  it('lists the ends of a run in the order of its jobs, the last end of a job counting, and those the journal lacks', async () => {
    const path = join(dir, 'ends.ndjson');
    const journal = await JournalFile.create(path);
    // Ended out of order; job 1 ended twice (a resume finished it); plan 1 is not listed.
    for (const entry of [done(0, 2), done(0, 0, { ok: false, message: 'first try' }), done(1, 0), done(0, 0, { message: 'again' }), { type: 'saved', plan: 0, job: 3 }]) await journal.append(entry, { durable: false });
    await journal.close();
    const ends = await JobEnds.read({
      path,
      slots: 5,
      slotOf: (plan, job) => (plan === 0 ? job : undefined),
      unwritten: new Map([
        [3, done(0, 3, { message: 'not written: the disk was full' })],
        [2, done(0, 2, { message: 'ignored: the journal has it' })],
      ]),
    });
    assert.equal(ends.size, 3);
    const listed: [number, string | undefined][] = [];
    for await (const { entry, slot } of ends.entries()) listed.push([slot, entry.message]);
    assert.deepEqual(listed, [
      [0, 'again'],
      [2, undefined],
      [3, 'not written: the disk was full'],
    ]);
  });

  it('syncs a durable entry with every line before it, a plain one only when the file closes', async () => {
    const path = join(dir, 'sync.ndjson');
    const journal = await JournalFile.create(path);
    const handleClass = (await open(path, 'r').then(async (handle) => {
      const type = Object.getPrototypeOf(handle) as { datasync: () => Promise<void> };
      await handle.close();
      return type;
    })) as { datasync: () => Promise<void> };
    const original = handleClass.datasync;
    let syncs = 0;
    handleClass.datasync = function (this: unknown) {
      syncs += 1;
      return original.call(this);
    };
    try {
      await journal.append({ n: 1 }, { durable: false });
      await journal.append({ n: 2 }, { durable: false });
      assert.equal(syncs, 0, 'plain entries are written without a sync');
      assert.equal((await readFile(path, 'utf8')).trim().split('\n').length, 2, 'yet they are in the file once appended');
      await journal.append({ n: 3 });
      assert.equal(syncs, 1, 'a durable entry is synced before its append resolves');
      await journal.append({ n: 4 }, { durable: false });
      await journal.close();
      assert.equal(syncs, 2, 'closing syncs what was written since');
    } finally {
      handleClass.datasync = original;
    }
    assert.deepEqual(
      (await readFile(path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line).n),
      [1, 2, 3, 4],
    );
  });
});

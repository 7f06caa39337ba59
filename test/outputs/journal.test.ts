/** The journal file (appended, synced, read back after a cut), its lock, and what a killed process leaves. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isPyrosError } from '../../src/errors.ts';
import { removeStaleTemps } from '../../src/outputs/atomic.ts';
import { JournalFile, readJournalFile } from '../../src/outputs/journal-file.ts';
import { FileLock } from '../../src/outputs/lock.ts';
import { isProcessAlive } from '../../src/outputs/process-alive.ts';
import { resumePlacing } from '../../src/outputs/save.ts';

/** The pid of a process that ran and has ended (and was reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function readAll(path: string): Promise<{ entries: unknown[]; validBytes: number; cutBytes: number }> {
  const entries: unknown[] = [];
  const result = await readJournalFile(path, (entry) => entries.push(entry));
  return { entries, validBytes: result.validBytes, cutBytes: result.cutBytes };
}

describe('journal file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pyros-journal-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has every entry on the disk, in order, once its append resolves', async () => {
    const path = join(dir, 'order.ndjson');
    const journal = await JournalFile.create(path);
    // Many at once (they share writes), then one more after them.
    await Promise.all(Array.from({ length: 50 }, (_, n) => journal.append({ n })));
    await journal.append({ n: 50 });
    const text = await readFile(path, 'utf8');
    assert.deepEqual(
      text.trimEnd().split('\n').map((line) => JSON.parse(line).n),
      Array.from({ length: 51 }, (_, n) => n),
    );
    await journal.close();
    await assert.rejects(JournalFile.create(path), (error: unknown) => isPyrosError(error) && error.kind === 'output', 'an existing journal is never replaced');
  });

  it('reads up to the last complete line when the last one was cut, and drops the cut part when appended to again', async () => {
    const path = join(dir, 'cut.ndjson');
    await writeFile(path, '{"n":1}\n{"n":2}\n{"n":3,"te');
    const read = await readAll(path);
    assert.deepEqual(read.entries, [{ n: 1 }, { n: 2 }]);
    assert.equal(read.validBytes, 16);
    assert.equal(read.cutBytes, 10);
    const journal = await JournalFile.reopen(path, read.validBytes);
    await journal.append({ n: 4 });
    await journal.close();
    assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n{"n":4}\n');
  });

  it('takes a last line without its newline as cut, even when it parses (its write never finished)', async () => {
    const path = join(dir, 'no-newline.ndjson');
    await writeFile(path, '{"n":1}\n{"n":2}');
    assert.deepEqual((await readAll(path)).entries, [{ n: 1 }]);
  });

  it('refuses a damaged line before the last with an error that names the file and the line, and changes nothing', async () => {
    const path = join(dir, 'damaged.ndjson');
    const text = '{"n":1}\n{"n":2 oops\n{"n":3}\n';
    await writeFile(path, text);
    await assert.rejects(readAll(path), (error: unknown) => {
      assert.ok(isPyrosError(error));
      assert.equal(error.kind, 'usage');
      assert.equal(error.reason, 'journal-corrupt');
      assert.equal(error.fields.path, path);
      assert.equal(error.fields.line, 2);
      assert.match(error.message, new RegExp(`${path}.*line 2`));
      return true;
    });
    assert.equal(await readFile(path, 'utf8'), text);
  });

  it('says which file is missing', async () => {
    const path = join(dir, 'nowhere.ndjson');
    await assert.rejects(readAll(path), (error: unknown) => isPyrosError(error) && error.reason === 'journal-missing' && error.fields.path === path);
  });
});

describe('lock file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pyros-lock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused to a second holder while its process runs, and free once released', async () => {
    const path = join(dir, 'run.lock');
    const lock = await FileLock.acquire(path);
    await assert.rejects(FileLock.acquire(path), (error: unknown) => {
      assert.ok(isPyrosError(error));
      assert.equal(error.reason, 'journal-locked');
      assert.equal(error.fields.pid, process.pid);
      assert.match(error.message, new RegExp(`locked by process ${process.pid}`));
      return true;
    });
    await lock.release();
    assert.deepEqual(await readdir(dir), []);
    const again = await FileLock.acquire(path);
    await again.release();
  });

  it('is taken over from a process that has ended, and from a file that is not a lock', async () => {
    const path = join(dir, 'stale.lock');
    const pid = deadPid();
    assert.equal(isProcessAlive(pid), false);
    await writeFile(path, `${JSON.stringify({ pid, host: hostname(), token: 'old', since: new Date(0).toISOString() })}\n`);
    const lock = await FileLock.acquire(path);
    assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
    await lock.release();
    await writeFile(path, 'not a lock');
    const second = await FileLock.acquire(path);
    await second.release();
    assert.deepEqual(await readdir(dir), [], 'nothing left beside it');
  });

  it('of a process on another machine is kept (it cannot be checked from here)', async () => {
    const path = join(dir, 'remote.lock');
    await writeFile(path, `${JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, token: 'far', since: new Date().toISOString() })}\n`);
    await assert.rejects(FileLock.acquire(path), (error: unknown) => isPyrosError(error) && error.reason === 'journal-locked' && error.fields.host === `not-${hostname()}`);
    await rm(path);
  });

  it('is not removed by a holder whose lock was taken over', async () => {
    const path = join(dir, 'taken.lock');
    const mine = await FileLock.acquire(path);
    await writeFile(path, `${JSON.stringify({ pid: process.pid, host: hostname(), token: 'someone-else', since: new Date().toISOString() })}\n`);
    await mine.release();
    assert.match(await readFile(path, 'utf8'), /someone-else/);
    await rm(path);
  });
});

describe('what a killed process leaves in the output folder', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pyros-left-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('temporary files of processes that ended are removed, those of a live one stay', async () => {
    const dead = `.pyros-tmp-${deadPid()}-abcdef`;
    const live = `.pyros-tmp-${process.pid}-abcdef`;
    await writeFile(join(dir, dead), 'partial');
    await writeFile(join(dir, live), 'being written');
    await writeFile(join(dir, 'image.png'), 'an output');
    assert.deepEqual(await removeStaleTemps(dir), [dead]);
    assert.deepEqual((await readdir(dir)).sort(), [live, 'image.png'].sort());
  });

  const ref = { nodeId: '9', key: 'images', item: { filename: 'kept_00001_.png', subfolder: '', type: 'output' } };
  const context = (sub: string): { dir: string; promptText: string; metadata: Record<string, unknown> } => ({ dir: join(dir, sub), promptText: 'a fox', metadata: { prompt_id: 'p1' } });

  it('a file that took its name before the kill gets the sidecars it lacks, and no second copy', async () => {
    const ctx = context('named');
    await mkdir(ctx.dir);
    const temp = `.pyros-tmp-${deadPid()}-000001`;
    await writeFile(join(ctx.dir, temp), 'PNG bytes');
    await link(join(ctx.dir, temp), join(ctx.dir, 'kept_00001_.png'));
    // Killed after the text sidecar, before the metadata.
    await writeFile(join(ctx.dir, 'kept_00001_.txt'), 'a fox\n');
    const file = await resumePlacing(ref, { temp, name: 'kept_00001_.png' }, ctx);
    assert.equal(file?.path, join(ctx.dir, 'kept_00001_.png'));
    assert.deepEqual((await readdir(ctx.dir)).sort(), ['kept_00001_.json', 'kept_00001_.png', 'kept_00001_.txt']);
    assert.equal(JSON.parse(await readFile(join(ctx.dir, 'kept_00001_.json'), 'utf8')).prompt_id, 'p1');
    assert.equal((await stat(join(ctx.dir, 'kept_00001_.png'))).size, 9);
  });

  it('a download complete in its temporary file is placed; nothing there means downloading again', async () => {
    const ctx = context('temp');
    await mkdir(ctx.dir);
    const temp = `.pyros-tmp-${deadPid()}-000002`;
    await writeFile(join(ctx.dir, temp), 'PNG bytes');
    // The name it was to take is someone else's file by now.
    await writeFile(join(ctx.dir, 'kept_00001_.png'), 'another file');
    const file = await resumePlacing(ref, { temp, name: 'kept_00001_.png' }, ctx);
    assert.equal(file?.path, join(ctx.dir, 'kept_00001_-1.png'));
    assert.equal(await readFile(join(ctx.dir, 'kept_00001_-1.png'), 'utf8'), 'PNG bytes');
    assert.equal(await readFile(join(ctx.dir, 'kept_00001_.png'), 'utf8'), 'another file');
    assert.equal(await resumePlacing(ref, { temp: '.pyros-tmp-1-gone', name: 'gone.png' }, ctx), undefined);
  });
});

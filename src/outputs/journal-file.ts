/**
 * An append-only file of JSON lines that survives a kill at any instant. `append` resolves once
 * its line is on the disk (written, then fdatasync'ed), so whatever the caller does next is
 * covered. Entries appended while a write is under way go together in the next one (group
 * commit): an entry costs a few system calls at most, and nothing but the unwritten lines is
 * held in memory.
 *
 * Reading tolerates what a kill or a power loss leaves: a last line without its newline (its
 * write was cut) is not an entry and is dropped when the file is appended to again. Anything
 * worse (a complete line that is not JSON) is an error that names the file and the line; the
 * file is left as it is.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PyrosError } from '../errors.ts';
import { outputError } from './atomic.ts';

export class JournalFile {
  readonly path: string;
  private readonly handle: FileHandle;
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.handle = handle;
  }

  /** Creates a new journal (never replacing a file) and makes its name durable in its folder. */
  static async create(path: string): Promise<JournalFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx');
    } catch (error) {
      throw outputError(error, dirname(path), 'the journal');
    }
    await syncFolder(dirname(path));
    return new JournalFile(path, handle);
  }

  /** Opens an existing journal to append to it; bytes after `validBytes` (a cut last line) are dropped first. */
  static async reopen(path: string, validBytes: number): Promise<JournalFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'a');
      const { size } = await handle.stat();
      if (size > validBytes) {
        await handle.truncate(validBytes);
        await handle.datasync();
      }
    } catch (error) {
      throw outputError(error, dirname(path), 'the journal');
    }
    return new JournalFile(path, handle);
  }

  /** Appends one entry; resolves once it is on the disk. */
  append(entry: object): Promise<void> {
    const written = new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (this.closed) return reject(new Error(`the journal ${this.path} is closed`));
      this.pending.push(`${JSON.stringify(entry)}\n`);
      this.waiters.push({ resolve, reject });
      this.flushing ??= this.flush();
    });
    // A caller that does not wait for it must not crash the process when the disk fails.
    written.catch(() => undefined);
    return written;
  }

  private async flush(): Promise<void> {
    // Entries appended in the same turn go in one write.
    await Promise.resolve();
    while (this.pending.length > 0 && !this.failure) {
      const data = Buffer.from(this.pending.splice(0).join(''));
      const waiters = this.waiters.splice(0);
      try {
        for (let offset = 0; offset < data.length; ) offset += (await this.handle.write(data, offset)).bytesWritten;
        await this.handle.datasync();
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        // A line may be half-written now: nothing more is appended after it.
        this.failure = outputError(error, dirname(this.path), 'the journal');
        for (const waiter of [...waiters, ...this.waiters.splice(0)]) waiter.reject(this.failure);
        this.pending = [];
      }
    }
    this.flushing = undefined;
  }

  /** Waits for every entry appended so far, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.handle.close().catch(() => undefined);
  }
}

/** Makes a new name in `dir` durable (a power loss would otherwise lose the file itself). */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some systems cannot sync a folder; the file's own data is still synced.
  }
}

export interface JournalReadResult {
  /** Complete lines read. */
  lines: number;
  /** Bytes up to the end of the last complete line: where appending resumes. */
  validBytes: number;
  /** The bytes of a last line cut short (its write never finished), if any. */
  cutBytes: number;
}

/**
 * Reads every complete line of a journal in order, giving each parsed entry (and its 1-based line
 * number) to `onEntry`, which may throw a PyrosError to refuse it. A missing file, a line that is
 * not JSON or an entry refused becomes a `usage` error naming the file.
 */
export async function readJournalFile(path: string, onEntry: (entry: unknown, line: number) => void): Promise<JournalReadResult> {
  let line = 0;
  let validBytes = 0;
  let rest = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(path)) {
      let data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      for (let newline = data.indexOf(10); newline >= 0; newline = data.indexOf(10)) {
        line += 1;
        const text = data.subarray(0, newline).toString('utf8');
        validBytes += newline + 1;
        data = data.subarray(newline + 1);
        if (text.trim() !== '') handleLine(path, text, line, onEntry);
      }
      rest = Buffer.from(data);
    }
  } catch (error) {
    if (error instanceof PyrosError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PyrosError('usage', `There is no journal at ${path}.`, { reason: 'journal-missing', fields: { path } });
    throw new PyrosError('usage', `Cannot read the journal ${path}: ${(error as Error).message}`, { reason: 'journal-corrupt', fields: { path, code }, cause: error });
  }
  return { lines: line, validBytes, cutBytes: rest.length };
}

function handleLine(path: string, text: string, line: number, onEntry: (entry: unknown, line: number) => void): void {
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    throw new PyrosError('usage', `The journal ${path} is damaged: line ${line} is not a complete entry.`, {
      reason: 'journal-corrupt',
      fields: { path, line, value: text.slice(0, 80) },
    });
  }
  onEntry(entry, line);
}

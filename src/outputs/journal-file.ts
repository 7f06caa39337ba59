/**
 * An append-only file of JSON lines that survives a kill at any instant. `append` resolves once
 * its line is written (a killed process loses none of it), and for a durable entry once it is on
 * the disk (written, then fdatasync'ed), so that whatever the caller does next is covered even by
 * a power loss; a durable entry makes every line before it durable too. Entries appended while a
 * write is under way go together in the next one (group commit): an entry costs a few system
 * calls at most, and nothing but the unwritten lines is held in memory.
 *
 * Reading tolerates what a kill or a power loss leaves: a last line without its newline (its
 * write was cut) is not an entry and is dropped when the file is appended to again. Anything
 * worse (a complete line that is not JSON) is an error that names the file and the line; the
 * file is left as it is.
 */
import { createReadStream, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PyrosError } from '../errors.ts';
import { outputError } from './atomic.ts';

export class JournalFile {
  readonly path: string;
  private readonly handle: FileHandle;
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** A waiter needs its line on the disk, not only written. */
  private durableWanted = false;
  /** Lines written since the last fdatasync. */
  private unsynced = false;
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

  /**
   * Appends one entry; resolves once it is written, and when `durable` (the default) once it is
   * on the disk with every line before it.
   */
  append(entry: object, options: { durable?: boolean } = {}): Promise<void> {
    const written = new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (this.closed) return reject(new Error(`the journal ${this.path} is closed`));
      this.pending.push(`${JSON.stringify(entry)}\n`);
      this.waiters.push({ resolve, reject });
      if (options.durable !== false) this.durableWanted = true;
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
      const durable = this.durableWanted;
      this.durableWanted = false;
      try {
        // A few hundred bytes into the page cache: at once, rather than through the thread pool.
        for (let offset = 0; offset < data.length; ) offset += writeSync(this.handle.fd, data, offset);
        this.unsynced = true;
        if (durable) await this.sync();
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

  private async sync(): Promise<void> {
    this.unsynced = false;
    await this.handle.datasync();
  }

  /** Waits for every entry appended so far (on the disk), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    if (this.unsynced && !this.failure) await this.sync().catch(() => undefined);
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
  return scanJournalLines(path, {}, (text, line) => {
    if (text.trim() !== '') handleLine(path, text, line, onEntry);
  });
}

/**
 * Every complete line of a journal from byte `from` on (a line start), with its line number
 * (counted from `from`) and its byte offset; a line that does not start with `prefix` is skipped
 * without being decoded. Errors as for `readJournalFile`.
 */
export async function scanJournalLines(path: string, options: { from?: number; prefix?: string }, onLine: (text: string, line: number, offset: number) => void): Promise<JournalReadResult> {
  const from = options.from ?? 0;
  const prefix = options.prefix === undefined ? undefined : Buffer.from(options.prefix);
  let line = 0;
  let validBytes = from;
  let rest = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(path, { start: from, highWaterMark: 256 * 1024 })) {
      const data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (let newline = data.indexOf(10); newline >= 0; newline = data.indexOf(10, start)) {
        line += 1;
        const offset = validBytes;
        validBytes += newline + 1 - start;
        if (!prefix || (newline - start >= prefix.length && data.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0)) {
          onLine(data.toString('utf8', start, newline), line, offset);
        }
        start = newline + 1;
      }
      rest = Buffer.from(data.subarray(start));
    }
  } catch (error) {
    if (error instanceof PyrosError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PyrosError('usage', `There is no journal at ${path}.`, { reason: 'journal-missing', fields: { path } });
    throw new PyrosError('usage', `Cannot read the journal ${path}: ${(error as Error).message}`, { reason: 'journal-corrupt', fields: { path, code }, cause: error });
  }
  return { lines: line, validBytes, cutBytes: rest.length };
}

/** Parses the line of a journal that starts at `offset`, read from a window of the file kept for the next call. */
export class JournalLineReader {
  private readonly path: string;
  private handle: FileHandle | undefined;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(path: string) {
    this.path = path;
  }

  async at(offset: number): Promise<unknown> {
    let start = offset - this.windowStart;
    let newline = start >= 0 && start < this.window.length ? this.window.indexOf(10, start) : -1;
    if (newline < 0) {
      await this.load(offset);
      start = 0;
      newline = this.window.indexOf(10);
    }
    if (newline < 0) throw new PyrosError('usage', `The journal ${this.path} has no complete line at byte ${offset}.`, { reason: 'journal-corrupt', fields: { path: this.path } });
    return JSON.parse(this.window.toString('utf8', start, newline)) as unknown;
  }

  /** Reads from `offset` until the window holds a whole line (or the file ends). */
  private async load(offset: number): Promise<void> {
    this.handle ??= await open(this.path, 'r');
    let size = 64 * 1024;
    for (;;) {
      const buffer = Buffer.alloc(size);
      const { bytesRead } = await this.handle.read(buffer, 0, size, offset);
      this.window = buffer.subarray(0, bytesRead);
      this.windowStart = offset;
      if (bytesRead < size || this.window.indexOf(10) >= 0) return;
      size *= 4;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
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

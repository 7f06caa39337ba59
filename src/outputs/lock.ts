/**
 * A lock file that names its owner (pid, host) and that a dead process does not hold: a lock
 * whose process no longer runs on this machine is taken over. The file is created whole (written
 * under another name, then hard-linked to the lock's name, which fails when it exists), and a
 * stale one is moved aside and checked before it is removed, so that two processes that find
 * the same stale lock cannot both end up holding it.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { PyrosError } from '../errors.ts';
import { outputError } from './atomic.ts';
import { isProcessAlive } from './process-alive.ts';

export interface LockOwner {
  pid: number;
  host: string;
  /** Unique to this holding of the lock. */
  token: string;
  since: string;
}

const ATTEMPTS = 8;

export class FileLock {
  readonly path: string;
  readonly owner: LockOwner;
  private released = false;

  private constructor(path: string, owner: LockOwner) {
    this.path = path;
    this.owner = owner;
  }

  /** Takes the lock, or throws a `usage` error (reason `journal-locked`) naming the live process that holds it. */
  static async acquire(path: string): Promise<FileLock> {
    const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
    const temp = `${path}.${owner.pid}-${owner.token}.new`;
    try {
      await writeFile(temp, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
    } catch (error) {
      throw outputError(error, dirname(path), 'a lock file');
    }
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        try {
          await link(temp, path);
          return new FileLock(path, owner);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(error, dirname(path), 'a lock file');
        }
        const held = await readLock(path);
        if (held === undefined) continue; // released meanwhile
        if (held.owner && holds(held.owner)) throw lockedError(path, held.owner);
        await breakStale(path, held.text, owner.token);
      }
      throw lockedError(path, (await readLock(path))?.owner);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Removes the lock file, if it is still this holding's. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const held = await readLock(this.path);
    if (held?.owner?.token === this.owner.token) await unlink(this.path).catch(() => undefined);
  }
}

/** Whether the owner of a lock still holds it: a process on another machine cannot be checked, so it does. */
function holds(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  return isProcessAlive(owner.pid);
}

async function readLock(path: string): Promise<{ text: string; owner: LockOwner | undefined } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw outputError(error, dirname(path), 'a lock file');
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string') return { text, owner: parsed as LockOwner };
  } catch {
    // A lock that is not one of ours: stale.
  }
  return { text, owner: undefined };
}

/** Moves a stale lock aside; if what was moved is not what was read (a live lock taken meanwhile), puts it back. */
async function breakStale(path: string, staleText: string, token: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${token}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw outputError(error, dirname(path), 'a lock file');
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function lockedError(path: string, owner: LockOwner | undefined): PyrosError {
  const who = owner ? `process ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`} (since ${owner.since})` : 'another process';
  return new PyrosError('usage', `${path} is locked by ${who}, which is still running.`, {
    reason: 'journal-locked',
    fields: { path, pid: owner?.pid, host: owner?.host },
  });
}

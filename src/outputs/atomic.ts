/**
 * Writing files so that a reader never sees half of one and an existing file is never replaced:
 * data goes to a temporary file in the same folder, which is then linked to its final name
 * (link fails when the name exists, so the claim is atomic). Errors become PyrosErrors.
 *
 * The small steps (an existence check, a link, an unlink, a sidecar of a few KB) are single
 * system calls of microseconds, made synchronously: asynchronously, each would cost two thread
 * switches more than the call itself, and a batch makes a dozen of them per job. Downloads are
 * streamed asynchronously.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, createWriteStream, existsSync, linkSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { access, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PyrosError } from '../errors.ts';
import { isProcessAlive } from './process-alive.ts';

export const TEMP_PREFIX = '.pyros-tmp-';

/** Unique to this process (with its pid in the name); a counter makes each name unique within it. */
const TEMP_TAG = randomBytes(4).toString('hex');
let tempCounter = 0;

export function tempPathIn(dir: string): string {
  tempCounter += 1;
  return join(dir, `${TEMP_PREFIX}${process.pid}-${TEMP_TAG}${tempCounter.toString(16)}`);
}

/** Temporary files being written right now, so that a process that must exit at once can remove them. */
const liveTemps = new Set<string>();

/**
 * Removes every temporary file still being written (synchronously: for an exit right now, e.g. a
 * second Ctrl-C). Files already given their final name are complete and stay.
 */
export function removeTempFilesSync(): void {
  for (const path of liveTemps) {
    try {
      unlinkSync(path);
    } catch {
      // Already renamed or removed.
    }
  }
  liveTemps.clear();
}

/** A file-system failure while saving `what` (a file name, or "the output folder") in `dir`. */
export function outputError(error: unknown, dir: string, what: string): Error {
  if (error instanceof PyrosError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  // The folder went away: the next file makes it again.
  if (code === 'ENOENT') forgetDir(dir);
  const fields = { path: dir, file: what, ...(code ? { code } : {}) };
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new PyrosError('output', `The disk is full: could not write ${what} in ${dir}.`, { reason: 'disk-full', fields, cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new PyrosError('output', `Cannot write to the output folder ${dir}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}.`, {
        reason: code === 'EROFS' ? 'read-only' : 'not-writable',
        fields,
        cause: error,
      });
    case 'ENOTDIR':
    case 'EEXIST':
      return new PyrosError('output', `The output path ${dir} is not a folder.`, { reason: 'not-a-folder', fields, cause: error });
    default:
      return new PyrosError('output', `Could not write ${what} in ${dir}: ${(error as Error).message}`, { reason: 'write-failed', fields, cause: error });
  }
}

const FILE_SYSTEM_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'EISDIR', 'EMFILE', 'EIO', 'ENOENT']);

export function isFileSystemError(error: unknown): boolean {
  return FILE_SYSTEM_CODES.has((error as NodeJS.ErrnoException)?.code ?? '');
}

/** Folders this process made sure of: a batch checks its output folder once, not once per file. */
const ensuredDirs = new Set<string>();

export async function ensureDir(dir: string): Promise<void> {
  if (ensuredDirs.has(dir)) return;
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw outputError(error, dir, 'the output folder');
  }
  ensuredDirs.add(dir);
}

/** Forgets that `dir` was made sure of (it was found missing): the next `ensureDir` makes it again. */
export function forgetDir(dir: string): void {
  ensuredDirs.delete(dir);
}

const HEAD_BYTES = 64;

/** Streams `source` into a new temporary file in `dir`; removes it on any failure. Keeps the first bytes (image dimensions live there). */
export async function streamToTemp(source: Readable, dir: string, expectedBytes?: number): Promise<{ path: string; bytes: number; head: Buffer }> {
  const path = tempPathIn(dir);
  liveTemps.add(path);
  let bytes = 0;
  const headChunks: Buffer[] = [];
  source.on('data', (chunk: Buffer) => {
    if (bytes < HEAD_BYTES) headChunks.push(chunk.subarray(0, HEAD_BYTES - bytes));
    bytes += chunk.length;
  });
  try {
    // A small file (most previews and many images) is written at once when it has all arrived.
    await (expectedBytes !== undefined && expectedBytes <= SMALL_FILE_BYTES ? gatherToFile(source, path, expectedBytes) : pipeToFile(source, path));
    if (expectedBytes !== undefined && bytes !== expectedBytes) {
      throw new PyrosError('server', `The download ended after ${bytes} of ${expectedBytes} bytes.`, { reason: 'download-cut', fields: { bytes, expectedBytes } });
    }
    return { path, bytes, head: Buffer.concat(headChunks) };
  } catch (error) {
    await unlink(path).catch(() => undefined);
    liveTemps.delete(path);
    throw error;
  }
}

const SMALL_FILE_BYTES = 64 * 1024;

/**
 * Creates the file, reads all of `source` (announced as `expectedBytes`, a small size), then
 * writes it at once: a small download costs three system calls and no thread switch.
 */
function gatherToFile(source: Readable, path: string, expectedBytes: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      source.destroy();
      reject(error as Error);
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      try {
        if (!error) {
          const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
          for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
        }
      } catch (cause) {
        error = cause as Error;
      }
      try {
        closeSync(fd);
      } catch (cause) {
        error ??= cause as Error;
      }
      if (error) {
        source.destroy();
        reject(error);
      } else resolve();
    };
    source.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes > expectedBytes) settle(new PyrosError('server', `The download sent more than the ${expectedBytes} bytes it announced.`, { reason: 'download-cut', fields: { bytes, expectedBytes } }));
    });
    source.on('error', (error) => settle(error));
    source.once('end', () => settle());
    source.once('close', () => {
      if (!source.readableEnded) settle(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
  });
}

/**
 * Streams `source` into a new file (never replacing one); resolves once the file is closed. As
 * `stream.pipeline` does, without its per-call abort machinery (a batch saves thousands of files).
 */
function pipeToFile(source: Readable, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const file = createWriteStream(path, { flags: 'wx' });
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      source.unpipe(file);
      source.destroy();
      // The failure is the one given, once the file is closed (so that it can be removed).
      if (file.closed) reject(error);
      else {
        file.once('close', () => reject(error));
        file.destroy();
      }
    };
    source.on('error', fail);
    file.on('error', fail);
    source.once('close', () => {
      if (!source.readableEnded) fail(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
    file.once('close', () => {
      if (!failed) resolve();
    });
    source.pipe(file);
  });
}

export async function writeTemp(dir: string, data: string | Buffer): Promise<string> {
  const path = tempPathIn(dir);
  liveTemps.add(path);
  try {
    writeFileSync(path, data, { flag: 'wx' });
    return path;
  } catch (error) {
    await unlink(path).catch(() => undefined);
    liveTemps.delete(path);
    throw outputError(error, dir, 'a file');
  }
}

/** Removes a temporary file that is no longer needed. */
export async function discardTemp(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
  liveTemps.delete(path);
}

async function exists(path: string): Promise<boolean> {
  return existsSync(path);
}

/**
 * Gives the temporary file its final name without replacing anything: returns false when the
 * name is taken. Falls back to check-then-rename on file systems without hard links.
 */
export async function claimName(tempPath: string, finalPath: string): Promise<boolean> {
  try {
    linkSync(tempPath, finalPath);
    unlinkSync(tempPath);
    liveTemps.delete(tempPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
  }
  if (await exists(finalPath)) return false;
  await rename(tempPath, finalPath);
  liveTemps.delete(tempPath);
  return true;
}

export { exists as pathExists };

/**
 * Removes the temporary files a killed process left in `dir` (their names carry its pid; only
 * those of processes that no longer run here are removed). Returns their names.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(/^\.pyros-tmp-(\d+)-/.exec(name)?.[1]);
    if (!pid || isProcessAlive(pid)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // Removed meanwhile, or not ours to remove.
    }
  }
  return removed;
}

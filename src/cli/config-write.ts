/**
 * Writing the config file: JSON, atomically (a temporary file in the same folder, then rename),
 * readable only by its owner (mode 0600), since it may hold request headers with credentials.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { CliError } from './errors/cli-error.ts';
import type { FileConfig } from './config.ts';

export async function writeConfig(path: string, config: FileConfig): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(config, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The umask may have narrowed the mode further, never widened it; make it exactly 0600.
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'the disk is full' : (error as Error).message;
    throw new CliError('output', `Cannot write the config file ${path}: ${reason}.`, { hint: 'Choose another file with --config FILE.', cause: error });
  }
}

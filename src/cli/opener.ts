/**
 * Opens a file or a URL with the system's viewer or browser (`xdg-open`, `open`, `start`),
 * detached: pyros does not wait for it and it outlives pyros.
 */
import { spawn } from 'node:child_process';

export interface OpenResult {
  ok: boolean;
  /** What to tell the person when it did not work. */
  message?: string;
}

export function openerCommand(target: string, platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [target] };
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', target.replace(/[&^|<>]/g, '^$&')] };
  return { command: 'xdg-open', args: [target] };
}

export function openExternal(target: string): Promise<OpenResult> {
  const { command, args } = openerCommand(target);
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args, { detached: true, stdio: 'ignore', windowsHide: true });
    } catch (error) {
      resolve({ ok: false, message: `Could not start ${command}: ${(error as Error).message}. Open it yourself: ${target}` });
      return;
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? `no ${command} on this system (nothing to open files with)` : `${command} failed: ${error.message}`;
      resolve({ ok: false, message: `Cannot open it: ${reason}. Open it yourself: ${target}` });
    });
    child.once('spawn', () => {
      child.unref();
      resolve({ ok: true });
    });
  });
}

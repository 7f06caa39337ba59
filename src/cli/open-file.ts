/** Opens a file or URL in the system's viewer (xdg-open, open, start), detached from pyros. */
import { spawn } from 'node:child_process';

export function openerCommand(platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [] };
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] };
  return { command: 'xdg-open', args: [] };
}

/** Resolves with an explanation when nothing could open it. */
export function openInViewer(target: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const { command, args } = openerCommand();
  return new Promise((resolve) => {
    const child = spawn(command, [...args, target], { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve({ ok: false, message: `Cannot open ${target}: \`${command}\` is not available on this system.` }));
    child.once('spawn', () => {
      child.unref();
      resolve({ ok: true });
    });
  });
}

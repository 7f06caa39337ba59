/**
 * `pyros gallery [DIR]`: serves the saved outputs of DIR (default: the configured output folder)
 * as a web page on 127.0.0.1 and opens it in the browser; runs until Ctrl-C.
 */
import { resolve } from 'node:path';
import { formatErrorBlock } from '../../ui/index.ts';
import { loadConfig } from '../config.ts';
import { openInViewer } from '../open-file.ts';
import { errorBlock, exitCodeOf } from '../report-error.ts';
import { PyrosError } from '../../errors.ts';

export interface GalleryFlags {
  port?: string;
  open?: boolean;
  config?: string;
  color?: boolean;
}

export async function galleryCommand(dirArg: string | undefined, flags: GalleryFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const color = flags.color !== false && Boolean(process.stderr.isTTY);
  try {
    const { config } = await loadConfig(flags.config);
    const dir = resolve(dirArg ?? env.PYROS_OUTPUT ?? config.output ?? 'images');
    const port = flags.port === undefined ? 0 : Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new PyrosError('usage', `--port must be a port number from 0 to 65535 (got "${flags.port}").`);
    const { startGallery } = await import('../../gallery/server.ts');
    const gallery = await startGallery({ dir, port });
    process.stdout.write(`${gallery.url}\n`);
    process.stderr.write(`Gallery of ${dir} at ${gallery.url} (Ctrl-C stops it)\n`);
    if (flags.open !== false) {
      const opened = await openInViewer(gallery.url);
      if (!opened.ok) process.stderr.write(`${opened.message}\n`);
    }
    await new Promise<void>((resolveStop) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolveStop();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await gallery.close();
    return 0;
  } catch (error) {
    for (const line of formatErrorBlock(errorBlock(error, { verbose: false, secrets: [] }), { color })) process.stderr.write(`${line}\n`);
    return exitCodeOf(error);
  }
}

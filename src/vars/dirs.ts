/** Where variables are looked up, in order: the folder the caller names, the user's config folder, the bundled set. */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PyrosError } from '../errors.ts';
import { packageRoot } from '../package-root.ts';

/** pyros' config folder, as env-paths computes it, for the given environment. */
export function configFolder(env: NodeJS.ProcessEnv): string {
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Preferences', 'pyros');
  if (process.platform === 'win32') return join(env.APPDATA || join(homedir(), 'AppData', 'Roaming'), 'pyros', 'Config');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'pyros');
}

/** The bundled variables shipped with pyros (`vars/` at the package root). */
export function bundledVariablesDir(): string {
  return join(packageRoot(), 'vars');
}

export function variableDirs(options: { varsDir?: string; env?: NodeJS.ProcessEnv } = {}): string[] {
  const env = options.env ?? process.env;
  const dirs: string[] = [];
  if (options.varsDir !== undefined && options.varsDir !== '') {
    const dir = resolve(options.varsDir);
    const info = statSync(dir, { throwIfNoEntry: false });
    if (!info?.isDirectory()) {
      throw new PyrosError('usage', `The variables folder ${dir} ${info ? 'is not a folder' : 'does not exist'}.`, {
        reason: info ? 'vars-not-a-folder' : 'vars-folder-missing',
        fields: { path: dir },
      });
    }
    dirs.push(dir);
  }
  dirs.push(join(configFolder(env), 'vars'), bundledVariablesDir());
  return dirs.filter((dir, index) => dirs.indexOf(dir) === index);
}

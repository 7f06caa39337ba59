/** Where the prompt variables of a command are looked up. */
import { variableDirs } from '../vars/index.ts';
import type { FileConfig } from './config.ts';

/** `--vars DIR`, else PYROS_VARS, else `vars` of the config file; then the user's and the bundled folders. */
export function variableDirsFor(flags: { vars?: string }, config: FileConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  return variableDirs({ varsDir: flags.vars ?? (env.PYROS_VARS || undefined) ?? config.vars, env });
}

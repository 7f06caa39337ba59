/** Whether `pyros run` has to run a batch (several jobs or several servers) rather than one job. */
import { loadSettings, type CommonFlags } from '../settings.ts';

export interface BatchTrigger extends CommonFlags {
  count?: string;
  prompt?: string[];
  prompts?: string;
  seed?: string;
}

export async function wantsBatch(flags: BatchTrigger): Promise<boolean> {
  if (flags.count !== undefined || flags.prompts !== undefined || (flags.prompt?.length ?? 0) > 1) return true;
  if (flags.seed?.trim().endsWith('+')) return true;
  if ((flags.server?.length ?? 0) > 1) return true;
  try {
    // A list of servers in COMFYUI_URL or in the config file is a pool too.
    const { connection } = await loadSettings(flags);
    return connection.servers.length > 1;
  } catch {
    return false; // the single-job path reports a broken config
  }
}

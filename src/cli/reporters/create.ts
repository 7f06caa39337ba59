import type { CommonFlags } from '../settings.ts';
import { HumanReporter } from './human.ts';
import { JsonReporter } from './json.ts';
import type { Reporter } from './reporter.ts';

/** JSON with --json; otherwise human output, live when stdout is a terminal that takes escapes. */
export function createReporter(flags: CommonFlags, secrets: readonly string[]): Reporter {
  if (flags.json) return new JsonReporter({ secrets, verbose: Boolean(flags.verbose) });
  return new HumanReporter({ live: wantsLiveOutput(flags), secrets, verbose: Boolean(flags.verbose) });
}

export function wantsLiveOutput(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env, out: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(out.isTTY) && flags.color !== false && !env.NO_COLOR && env.TERM !== 'dumb';
}

/**
 * What the commands that only ask the server something (queue, history, cancel, interrupt, stats,
 * nodes) share: settings and one client, human lines or one JSON document on stdout, and errors
 * told the same way as by `pyros run`.
 */
import type { Client } from '../client/client.ts';
import { maskSecrets } from '../client/endpoint.ts';
import { formatErrorBlock } from '../ui/summary.ts';
import { commandContext, createClient, earlySecrets, singleServer, type CommonFlags } from './context.ts';
import { errorBlock, errorEvent, exitCodeOf } from './report-error.ts';

export interface CommandOutput {
  readonly json: boolean;
  /** Colours on stdout (a terminal, and neither --no-color, NO_COLOR nor TERM=dumb). */
  readonly color: boolean;
  readonly verbose: boolean;
  /** Human lines on stdout. */
  lines(lines: readonly string[]): void;
  /** The one JSON document of --json, on stdout. */
  document(data: Record<string, unknown>): void;
}

export function wantsColor(flags: { color?: boolean }, stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return flags.color !== false && Boolean(stream.isTTY) && !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

/** Runs `body` with a client for the one server the flags name; returns the exit code. */
export async function withServer(command: string, flags: CommonFlags, body: (client: Client, out: CommandOutput) => Promise<number>): Promise<number> {
  const secrets = earlySecrets(flags);
  const mask = (text: string): string => maskSecrets(text, secrets);
  const out: CommandOutput = {
    json: Boolean(flags.json),
    color: !flags.json && wantsColor(flags, process.stdout),
    verbose: Boolean(flags.verbose),
    lines: (lines) => {
      if (lines.length > 0) process.stdout.write(`${lines.map(mask).join('\n')}\n`);
    },
    document: (data) => {
      process.stdout.write(`${mask(JSON.stringify(data))}\n`);
    },
  };
  let client: Client | undefined;
  try {
    const context = await commandContext(flags, secrets);
    client = createClient(context, singleServer(context, `pyros ${command}`));
    secrets.push(...client.endpoint.secrets);
    return await body(client, out);
  } catch (error) {
    if (out.json) {
      out.document({ ok: false, ...errorEvent(error, secrets) });
    } else {
      const block = errorBlock(error, { verbose: out.verbose, secrets });
      process.stderr.write(`${formatErrorBlock(block, { color: wantsColor(flags, process.stderr) }).join('\n')}\n`);
    }
    return exitCodeOf(error);
  } finally {
    client?.close();
  }
}

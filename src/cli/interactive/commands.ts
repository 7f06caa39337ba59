/** The `/commands` of interactive mode: what they take, their help, and running one typed line. */
import { PyrosError } from '../../errors.ts';
import { CliError } from '../errors/cli-error.ts';
import { editDistance } from '../../workflow/edit-distance.ts';
import type { Session } from './session.ts';

export interface CommandSpec {
  name: string;
  args: string;
  help: string;
  run(session: Session, arg: string): void | Promise<void>;
}

/** What ends the loop. */
export const QUIT = Symbol('quit');

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'help', args: '', help: 'this list', run: (s) => s.print(helpText(s)) },
  { name: 'count', args: 'N', help: 'jobs per prompt (each with its own seed)', run: (s, a) => s.setCount(a) },
  { name: 'seed', args: 'N|random|keep', help: 'seed of the next jobs: fixed, new each job, or the last one again', run: (s, a) => s.setSeed(a) },
  { name: 'set', args: 'NODE.INPUT=VALUE', help: 'set an input for every job until /unset (alone: list them)', run: (s, a) => s.setInput(a) },
  { name: 'unset', args: '[NODE.INPUT]', help: 'remove a /set (all of them without an argument)', run: (s, a) => s.unsetInput(a) },
  { name: 'workflow', args: 'FILE', help: 'use another workflow (API format)', run: (s, a) => s.setWorkflow(a) },
  { name: 'server', args: 'URL', help: 'use another server', run: (s, a) => s.setServer(a) },
  { name: 'vars', args: '', help: 'list the prompt variables (__name__) with a few values', run: async (s) => void (await s.listVars()) },
  { name: 'last', args: '', help: 'show the last image again', run: (s) => s.showLast() },
  { name: 'open', args: '', help: 'open the last image in the image viewer', run: (s) => s.openLast() },
  { name: 'gallery', args: '', help: 'open the gallery of the output folder in the browser', run: (s) => s.openGallery() },
  { name: 'cancel', args: '[all]', help: 'cancel the running job (all: and the queued ones)', run: (s, a) => s.cancel(a) },
  { name: 'quit', args: '', help: 'leave (also Ctrl-D)', run: () => undefined },
];

export const COMMAND_NAMES = COMMANDS.map((c) => `/${c.name}`);

export function helpText(session: Session): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length + c.args.length + 2));
  const lines = COMMANDS.map((c) => `  ${`/${c.name}${c.args ? ` ${c.args}` : ''}`.padEnd(width + 1)}  ${c.help}`);
  return [
    'Type a prompt and press Enter to run it; end a line with \\ to go on with the next one.',
    ...lines,
    'Keys: Tab completes commands, __variables__ and /set inputs · Up/Down: history · Ctrl-C: cancel the running job · Ctrl-D: leave',
    ...session.describeState().split('\n').map((line, i) => `${i === 0 ? 'Now:' : '    '} ${line}`),
  ].join('\n');
}

/** `/name rest` → the command and its argument; undefined when the line is not a command. */
export function parseCommand(line: string): { name: string; arg: string } | undefined {
  const match = /^\/(\S*)\s*([\s\S]*)$/.exec(line.trim());
  if (!match) return undefined;
  return { name: (match[1] ?? '').toLowerCase(), arg: match[2] ?? '' };
}

/**
 * Runs one `/command` line. Every failure is printed as one line and the loop goes on; returns
 * QUIT for `/quit`.
 */
export async function runCommand(session: Session, line: string): Promise<typeof QUIT | undefined> {
  const parsed = parseCommand(line);
  if (!parsed) return undefined;
  const spec = COMMANDS.find((c) => c.name === parsed.name);
  try {
    if (!spec) throw unknownCommand(parsed.name);
    if (spec.name === 'quit') return QUIT;
    if (spec.args === '' && parsed.arg.trim() !== '') throw new PyrosError('usage', `/${spec.name} takes no argument (got "${parsed.arg.trim()}").`);
    await spec.run(session, parsed.arg);
  } catch (error) {
    session.fail(error);
  }
  return undefined;
}

function unknownCommand(name: string): PyrosError {
  if (name === '') return new CliError('usage', 'A "/" alone is not a command.', { hint: 'Type /help for the list.' });
  const close = COMMANDS.map((c) => c.name)
    .filter((candidate) => candidate.startsWith(name) || editDistance(candidate, name) <= 2)
    .map((candidate) => `/${candidate}`);
  return new CliError('usage', `Unknown command /${name}.`, { hint: close.length > 0 ? `Did you mean ${close.join(' or ')}? (/help lists them all)` : 'Type /help for the list.' });
}

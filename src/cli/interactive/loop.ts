/**
 * The two ways prompts come in: a terminal (readline prompt with history, completion and
 * multi-line input, sharing the screen with the live display) or piped lines (one prompt per
 * line, for scripts). Both hand every line to the same session.
 */
import { createInterface, type Interface } from 'node:readline';
import { EXIT_CODES } from '../exit-codes.ts';
import { onInterrupt } from '../signals.ts';
import { QUIT, runCommand } from './commands.ts';
import { readlineCompletion } from './completion.ts';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history.ts';
import type { Session } from './session.ts';
import type { SharedTerminal } from './terminal.ts';

/** Lines from piped input read ahead of the jobs at most (the rest waits in the pipe). */
const PIPED_IN_FLIGHT = 8;

const BRACKETED_PASTE_ON = '\x1b[?2004h';
const BRACKETED_PASTE_OFF = '\x1b[?2004l';

export interface TerminalLoopOptions {
  session: Session;
  terminal: SharedTerminal;
  /** Writes straight to the terminal (mode changes only). */
  raw: (text: string) => void;
  /** Prints above the live area (the display's log). */
  above: (text: string) => void;
  historyFile: string | undefined;
  color: boolean;
  input?: NodeJS.ReadStream;
}

export function prompts(color: boolean): { main: string; more: string } {
  return color ? { main: '\x1b[1;36mpyros>\x1b[0m ', more: '\x1b[2m  ...>\x1b[0m ' } : { main: 'pyros> ', more: '  ...> ' };
}

/** The readline loop on a terminal; resolves with the exit code when the person leaves. */
export async function runTerminalLoop(options: TerminalLoopOptions): Promise<number> {
  const { session, terminal } = options;
  const input = options.input ?? process.stdin;
  const prompt = prompts(options.color);
  const history = loadHistory(options.historyFile);
  let historyWarned = false;

  const rl: Interface = createInterface({
    input,
    output: terminal.readlineOutput as unknown as NodeJS.WritableStream,
    terminal: true,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    prompt: prompt.main,
    tabSize: 4,
    completer: (line: string, callback: (error: Error | null, result?: [string[], string]) => void) => {
      const columns = process.stderr.columns ?? 80;
      readlineCompletion({ workflow: session.workflowGraph, stickyTargets: session.stickyTargets, variableNames: () => session.variableNames() }, line, (text) => terminal.print(text), columns).then(
        (result) => callback(null, result),
        () => callback(null, [[], line]),
      );
    },
  });
  terminal.attach(rl, options.above);
  rl.on('history', (entries: string[]) => {
    const error = saveHistory(options.historyFile, entries);
    if (error && !historyWarned) {
      historyWarned = true;
      session.print(`(the history cannot be saved: ${error.message})`);
    }
  });

  // Pasted text arrives between bracketed-paste markers: its lines make one prompt.
  let pasting = false;
  const onKeypress = (_text: string | undefined, key: { name?: string } | undefined): void => {
    if (key?.name === 'paste-start') pasting = true;
    else if (key?.name === 'paste-end') pasting = false;
  };
  input.on('keypress', onKeypress);
  options.raw(BRACKETED_PASTE_ON);
  const restorePaste = (): void => options.raw(BRACKETED_PASTE_OFF);
  process.once('exit', restorePaste);

  let pending: string[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  /** Lines taken but not yet handled. */
  let busy = 0;
  let quitting = false;
  let resolveQuit!: () => void;
  const quitRequested = new Promise<void>((resolve) => {
    resolveQuit = resolve;
  });

  const handle = async (text: string): Promise<void> => {
    if (quitting) return;
    if (text.startsWith('/')) {
      if ((await runCommand(session, text)) === QUIT) {
        quitting = true;
        rl.close();
      }
      return;
    }
    try {
      await session.runPrompt(text);
    } catch (error) {
      session.fail(error);
    }
  };

  rl.on('line', (line: string) => {
    const typedWith = rl.getPrompt();
    const continues = pasting || line.endsWith('\\');
    if (continues) pending.push(pasting ? line : line.slice(0, -1));
    const text = continues ? '' : [...pending, line].join('\n').trim();
    if (!continues) pending = [];
    rl.setPrompt(continues ? prompt.more : prompt.main);
    // The prompt is ready again at once; the line as typed is printed above the live area,
    // right away, or after the output of the lines before it when those are still being handled.
    terminal.showPrompt();
    const echo = (): void => terminal.print(`${typedWith}${line}`);
    const echoNow = busy === 0;
    if (echoNow) echo();
    busy += 1;
    chain = chain.then(async () => {
      try {
        if (!echoNow) echo();
        if (text !== '') await handle(text);
      } catch (error) {
        // Whatever goes wrong with one line, the next ones are still handled.
        session.fail(error);
      } finally {
        busy -= 1;
      }
    });
  });

  rl.on('SIGINT', () => {
    if (session.queue.current) {
      session.queue.cancelCurrent();
      return;
    }
    if (rl.line !== '' || pending.length > 0) {
      pending = [];
      rl.setPrompt(prompt.main);
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      terminal.refreshPrompt();
      return;
    }
    session.print('(nothing is running; press Ctrl-D or type /quit to leave)');
  });

  rl.on('close', () => {
    quitting = true;
    resolveQuit();
  });

  terminal.showPrompt();
  // Prompts given with --prompt or --prompts run first, as if typed.
  for (const text of session.initialPrompts) chain = chain.then(() => handle(text).catch((error: unknown) => session.fail(error)));
  await quitRequested;
  input.off('keypress', onKeypress);
  restorePaste();
  process.off('exit', restorePaste);
  terminal.hidePrompt();
  await chain;
  return finish(session);
}

/** After the last line: the jobs still queued finish (Ctrl-C cancels them, twice quits). */
async function finish(session: Session): Promise<number> {
  let code: number = EXIT_CODES.ok;
  if (session.queue.size > 0) {
    const n = session.queue.size;
    session.print(`Waiting for ${n} job${n === 1 ? '' : 's'} to finish (Ctrl-C cancels ${n === 1 ? 'it' : 'them'})…`);
    const dispose = onInterrupt({
      first: () => {
        code = EXIT_CODES.cancelled;
        session.queue.cancelWaiting();
        session.queue.cancelCurrent();
      },
      second: () => process.exit(EXIT_CODES.cancelled),
    });
    await session.queue.idle();
    dispose();
  }
  return code;
}

/** Piped input: one prompt (or /command) per line, run in order; the exit code tells how the jobs went. */
export async function runPipedLoop(session: Session, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
  let cancelled = false;
  const dispose = onInterrupt({
    first: () => {
      cancelled = true;
      rl.close();
      session.queue.cancelWaiting();
      session.queue.cancelCurrent();
    },
    second: () => process.exit(EXIT_CODES.cancelled),
  });
  let pending: string[] = [];
  const runPrompt = async (text: string): Promise<void> => {
    try {
      await session.runPrompt(text);
    } catch (error) {
      session.fail(error);
      session.queue.stats.failed += 1;
      if (session.queue.stats.firstFailureCode === 0) session.queue.stats.firstFailureCode = EXIT_CODES.usage;
    }
    await session.queue.waitForRoom(PIPED_IN_FLIGHT);
  };
  try {
    // Prompts given with --prompt or --prompts run first, as if they were the first lines.
    for (const text of session.initialPrompts) if (!cancelled) await runPrompt(text);
    for await (const raw of rl) {
      if (cancelled) break;
      const line = raw.replace(/\r$/, '');
      if (line.endsWith('\\')) {
        pending.push(line.slice(0, -1));
        continue;
      }
      const text = [...pending, line].join('\n').trim();
      pending = [];
      if (text === '') continue;
      if (text.startsWith('/')) {
        if ((await runCommand(session, text)) === QUIT) break;
        continue;
      }
      await runPrompt(text);
    }
    const rest = [...pending].join('\n').trim();
    if (rest !== '' && !cancelled) {
      try {
        if (rest.startsWith('/')) await runCommand(session, rest);
        else await session.runPrompt(rest);
      } catch (error) {
        session.fail(error);
      }
    }
    await session.queue.idle();
  } finally {
    dispose();
    rl.close();
  }
  if (cancelled) return EXIT_CODES.cancelled;
  const { ok, failed, firstFailureCode } = session.queue.stats;
  if (failed === 0) return EXIT_CODES.ok;
  return ok === 0 ? firstFailureCode : EXIT_CODES.partial;
}

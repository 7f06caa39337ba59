/**
 * Questions on the terminal (or answers piped into stdin, one per line), with node:readline.
 * Lines are read through the interface's async iterator, so answers that arrive before their
 * question is asked are kept, not lost.
 *
 * Piped answers usually all arrive, and the input ends, before the first question: readline then
 * closes the interface while its lines still wait in the iterator. From Node 24 on, `prompt()` on
 * a closed interface throws ERR_USE_AFTER_CLOSE (it resumes the paused input), so the questions
 * left are written to the output directly.
 */
import { createInterface, type Interface } from 'node:readline/promises';
import { PyrosError } from '../errors.ts';
import { CliError } from './errors/cli-error.ts';

export class Prompter {
  private readonly rl: Interface;
  private readonly lines: AsyncIterator<string>;
  private readonly output: NodeJS.WritableStream;
  private readonly terminal: boolean;
  private cancelled = false;
  private closed = false;

  constructor(input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin, output: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout) {
    this.output = output;
    this.terminal = Boolean(input.isTTY && output.isTTY);
    this.rl = createInterface({ input, output, terminal: this.terminal });
    this.lines = this.rl[Symbol.asyncIterator]();
    this.rl.on('close', () => {
      this.closed = true;
    });
    // Ctrl-C at a question (the terminal is in raw mode, so no signal arrives): end the dialogue.
    this.rl.on('SIGINT', () => {
      this.cancelled = true;
      this.rl.close();
    });
  }

  say(text = ''): void {
    this.output.write(`${text}\n`);
  }

  /** Asks once; Enter gives the default. */
  async ask(question: string, defaultAnswer?: string): Promise<string> {
    const prompt = `${question}${defaultAnswer ? ` [${defaultAnswer}]` : ''}: `;
    if (this.closed) {
      this.output.write(prompt);
    } else {
      this.rl.setPrompt(prompt);
      this.rl.prompt();
    }
    const next = await this.lines.next();
    if (next.done) {
      this.output.write('\n');
      if (this.cancelled) throw new PyrosError('cancelled', 'Cancelled; nothing was saved.');
      throw new CliError('usage', 'The input ended before every question was answered.', { hint: 'Answer every question, or run with --yes to accept the defaults.' });
    }
    // Piped answers are not echoed by a terminal: show them, so the transcript reads as a dialogue.
    if (!this.terminal) this.output.write(`${next.value}\n`);
    const answer = next.value.trim();
    return answer === '' ? (defaultAnswer ?? '') : answer;
  }

  /** Asks until `accept` takes the answer (it returns undefined and says why otherwise). */
  async askUntil<T>(question: string, defaultAnswer: string | undefined, accept: (answer: string) => Promise<T | undefined> | T | undefined): Promise<T> {
    for (;;) {
      const result = await accept(await this.ask(question, defaultAnswer));
      if (result !== undefined) return result;
    }
  }

  close(): void {
    if (!this.closed) this.rl.close();
  }
}

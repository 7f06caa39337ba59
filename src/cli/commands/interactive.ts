/**
 * `pyros` with no command: interactive mode. Takes the options of `pyros run` (the workflow with
 * --workflow), then reads prompts: from a readline prompt on a terminal, one per line otherwise.
 * Every prompt goes through the run pipeline (plan, startJob, reporters, display).
 */
import { HumanReporter } from '../reporters/human.ts';
import { JsonReporter } from '../reporters/json.ts';
import type { Reporter } from '../reporters/reporter.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { commandContext, earlySecrets } from '../context.ts';
import { resolveRunSettings, type RunFlags } from '../run-settings.ts';
import { createDisplay, detectPreview, formatErrorBlock, renderImage, type Display, type PreviewChoice } from '../../ui/index.ts';
import { historyPath } from '../interactive/history.ts';
import { runPipedLoop, runTerminalLoop } from '../interactive/loop.ts';
import { Session, type SessionIO } from '../interactive/session.ts';
import { SharedTerminal } from '../interactive/terminal.ts';

/**
 * A display whose job shows a label (`[job 3]`) in the status line. In a session the final
 * frame leaves the preview out (the transcript stays compact; /last shows the image).
 */
function labelled(display: Display, label: string, keepPreview: boolean): Display {
  return { ...display, attach: (job, options) => display.attach(job, { label, ...options }), stop: (options) => display.stop({ keepPreview, ...options }) };
}

async function startGallery(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const { startGallery: start } = await import('../../gallery/server.ts');
  return start({ dir });
}

export async function interactiveCommand(flags: RunFlags): Promise<number> {
  const secrets = earlySecrets(flags);
  const verbose = Boolean(flags.verbose);
  const color = flags.color !== false;
  const onTerminal = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !flags.json;
  let session: Session | undefined;
  try {
    const context = await commandContext(flags, secrets);
    const settings = await resolveRunSettings(undefined, flags, context);
    const previewMode = settings.preview;
    const preview: PreviewChoice | 'off' = process.stderr.isTTY && previewMode !== 'off' && !flags.json ? await detectPreview({ mode: previewMode, stdout: process.stderr }) : 'off';

    if (!onTerminal) {
      const display = flags.json ? undefined : createDisplay({ stream: process.stderr, color, preview });
      const io: SessionIO = {
        print: (text) => process.stderr.write(`${text}\n`),
        reporterFor: (job): Reporter => (display ? new HumanReporter({ display: labelled(display, job.label, true), color, verbose, secrets }) : new JsonReporter({ secrets, verbose, extra: { job: job.number, server: null } })),
        showImage: () => false,
        color: color && Boolean(process.stderr.isTTY),
      };
      session = await Session.create({ context, settings, io, startGallery, requireWorkflow: true });
      return await runPipedLoop(session);
    }

    const terminal = new SharedTerminal(process.stderr);
    const display = createDisplay({ stream: terminal.displayStream, color, preview });
    const out = { write: (text: string) => (terminal.print(text.replace(/\n$/, '')), true), isTTY: true } as unknown as NodeJS.WriteStream;
    const io: SessionIO = {
      print: (text) => terminal.print(text),
      reporterFor: (job) => new HumanReporter({ display: labelled(display, job.label, false), color, verbose, secrets, out }),
      showImage: (bytes) => {
        if (preview === 'off' || preview.protocol === 'off') return false;
        const columns = process.stderr.columns ?? 80;
        const rows = process.stderr.rows ?? 24;
        const text = renderImage(bytes, preview, { cols: Math.min(columns, 96), rows: Math.max(4, Math.min(24, rows - 6)) });
        if (text === '') return false;
        terminal.print(text.replace(/\n$/, ''));
        return true;
      },
      color: color && display.mode === 'live',
    };
    session = await Session.create({ context, settings, io, startGallery });
    session.print(`pyros interactive · ${session.describeState()}\nType a prompt and press Enter; /help lists the commands, Ctrl-D leaves.`);
    return await runTerminalLoop({
      session,
      terminal,
      raw: (text) => process.stderr.write(text),
      above: (text) => display.log(text.replace(/\n$/, '')),
      historyFile: historyPath(),
      color: color && display.mode === 'live',
    });
  } catch (error) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...errorEvent(error, secrets), time: new Date().toISOString() })}\n`);
    else for (const line of formatErrorBlock(errorBlock(error, { verbose, secrets }), { color: color && Boolean(process.stderr.isTTY) })) process.stderr.write(`${line}\n`);
    return exitCodeOf(error);
  } finally {
    await session?.close();
  }
}

/**
 * The display for pipes, logs and CI (and nothing for --json), without the live view: commands
 * that know they print plain lines load this and skip the terminal drawing and image code.
 */
import { buildDisplay, NO_PREVIEW_STATS, type Display } from './display-core.ts';
import type { TerminalStream } from './live-display.ts';
import { PlainDisplay } from './plain-display.ts';
import { ProgressModel } from './progress-model.ts';

export function createPlainDisplay(options: { stream: TerminalStream; mode?: 'plain' | 'none'; now?: () => number }): Display {
  const model = new ProgressModel({ now: options.now });
  if (options.mode === 'none') {
    return buildDisplay('none', model, { log: () => undefined, stop: () => undefined, activate: () => undefined, stats: () => ({ writes: 0, bytes: 0, preview: NO_PREVIEW_STATS }) }, false);
  }
  const plain = new PlainDisplay({ stream: options.stream, model });
  return buildDisplay(
    'plain',
    model,
    {
      log: (line) => plain.log(line),
      stop: (stop) => plain.stop({ lines: stop.lines }),
      activate: () => undefined,
      stats: () => ({ writes: plain.stats().lines, bytes: 0, preview: NO_PREVIEW_STATS }),
    },
    false,
  );
}

export { chooseDisplayMode } from './display-core.ts';

/**
 * The terminal display of a job, for the command line: a live view on terminals, plain lines
 * elsewhere, nothing in JSON mode. One display can follow several jobs one after the other
 * (interactive mode, batches): `attach` each job, `stop` after each.
 *
 *   const display = createDisplay({ stream: process.stderr, preview: await detectPreview({ mode }) });
 *   display.phase('connecting', { text: url });
 *   const job = client.run(workflow);
 *   display.attach(job);
 *   const result = await job.result;
 *   display.phase('downloading', { done: 0, total: n }); …
 *   display.stop({ outcome: 'done', lines: savedFileLines(files, { color }) });
 */
import { buildDisplay, chooseDisplayMode, NO_PREVIEW_STATS, type Display, type DisplayMode, type DisplayOptions, type View } from './display-core.ts';
import { LiveDisplay } from './live-display.ts';
import { PlainDisplay } from './plain-display.ts';
import { previewFromEnv } from './preview/detect.ts';
import { ProgressModel } from './progress-model.ts';

export function createDisplay(options: DisplayOptions): Display {
  const env = options.env ?? process.env;
  const requested = options.mode ?? 'auto';
  const mode = requested === 'auto' ? chooseDisplayMode({ isTTY: options.stream.isTTY, env, color: options.color }) : requested;
  const color = options.color ?? true;
  const model = new ProgressModel({ now: options.now });
  return buildDisplay(mode, model, createView(mode, options, model, color, env), color);
}

function createView(mode: DisplayMode, options: DisplayOptions, model: ProgressModel, color: boolean, env: Record<string, string | undefined>): View {
  if (mode === 'none') {
    return { log: () => undefined, stop: () => undefined, activate: () => undefined, stats: () => ({ writes: 0, bytes: 0, preview: NO_PREVIEW_STATS }) };
  }
  if (mode === 'plain') {
    const plain = new PlainDisplay({ stream: options.stream, model });
    return {
      log: (line) => plain.log(line),
      stop: (stop) => plain.stop({ lines: stop.lines }),
      activate: () => undefined,
      stats: () => ({ writes: plain.stats().lines, bytes: 0, preview: NO_PREVIEW_STATS }),
    };
  }
  const choice = typeof options.preview === 'object' ? options.preview : previewFromEnv(options.preview ?? 'auto', env, { stdoutIsTTY: options.stream.isTTY === true, stdinIsTTY: false });
  const live = new LiveDisplay({
    stream: options.stream,
    model,
    color,
    preview: choice === 'query' || choice.protocol === 'off' ? undefined : choice,
    columns: options.columns,
    rows: options.rows,
    maxPreviewRows: options.maxPreviewRows,
    maxPreviewCols: options.maxPreviewCols,
    guardExit: options.guardExit,
    now: options.now,
  });
  return {
    log: (line) => live.log(line),
    stop: (stop) => live.stop(stop),
    activate: () => live.start(),
    stats: () => live.stats(),
  };
}

export { chooseDisplayMode, type Display, type DisplayMode, type DisplayOptions, type DisplayStats, type JobSource, type StopOptions } from './display-core.ts';
export { detectPreview, previewFromEnv, PREVIEW_MODES, type PreviewChoice, type PreviewMode, type PreviewProtocol } from './preview/detect.ts';
export { ProgressModel, describeQueue, type Phase, type PhaseDetail, type ProgressState } from './progress-model.ts';
export { savedFileLines, formatErrorBlock, describeStats, type SavedFile, type ErrorBlock } from './summary.ts';
export { renderImage, showImage } from './show-image.ts';
export { imageSize, type ImageSize } from './image-size.ts';
export { formatBytes, formatDuration } from './format.ts';
export type { TerminalStream } from './live-display.ts';


import { PyrosError } from '../../errors.ts';
import { PREVIEW_MODES, type PreviewMode } from '../../ui/preview/detect.ts';
import { chooseDisplayMode } from '../../ui/plain.ts';
import type { CommonFlags } from '../context.ts';
import { HumanReporter } from './human.ts';
import { JsonReporter } from './json.ts';
import type { Reporter } from './reporter.ts';

export function parsePreviewMode(value: string | undefined): PreviewMode {
  const mode = (value ?? 'auto') as PreviewMode;
  if (!PREVIEW_MODES.includes(mode)) {
    throw new PyrosError('usage', `--preview must be one of ${PREVIEW_MODES.join(', ')} (got "${value}").`);
  }
  return mode;
}

/**
 * JSON with --json; otherwise the display on stderr: live on a terminal, plain lines elsewhere.
 * The live view (and its image decoders) is only loaded when it is used.
 */
export async function createReporter(flags: CommonFlags & { preview?: string; show?: boolean }, secrets: readonly string[]): Promise<Reporter> {
  const verbose = Boolean(flags.verbose);
  // One job, told like every job of a batch: its number, and its server once it has one.
  if (flags.json) return new JsonReporter({ secrets, verbose, extra: { job: 1, server: null } });
  const stream = process.stderr;
  const color = flags.color !== false;
  const previewMode = parsePreviewMode(flags.preview);
  if (chooseDisplayMode({ isTTY: stream.isTTY, color }) === 'plain') {
    const { createPlainDisplay } = await import('../../ui/plain.ts');
    const reporter = new HumanReporter({ display: createPlainDisplay({ stream }), color, verbose, secrets });
    if (flags.show) reporter.note('--show: the image is not drawn: the output is plain text (stderr is not a terminal, or --no-color, NO_COLOR or TERM=dumb)');
    return reporter;
  }
  const { createDisplay, detectPreview, showImage } = await import('../../ui/index.ts');
  const wantsImages = stream.isTTY && (previewMode !== 'off' || flags.show);
  const preview = wantsImages ? await detectPreview({ mode: previewMode === 'off' ? 'auto' : previewMode, stdout: stream }) : undefined;
  const display = createDisplay({ stream, color, preview: previewMode === 'off' ? 'off' : (preview ?? 'off') });
  const choice = flags.show && preview && preview.protocol !== 'off' ? preview : undefined;
  const show = choice
    ? (image: Buffer): void => {
        const cols = Math.max(20, (stream.columns ?? 80) - 2);
        const rows = Math.max(6, Math.min(40, (stream.rows ?? 30) - 4));
        showImage(stream, image, choice, { cols, rows });
      }
    : undefined;
  return new HumanReporter({ display, color, verbose, secrets, show });
}

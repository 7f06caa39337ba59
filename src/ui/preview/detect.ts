/**
 * Which image protocol to use (`--preview auto|kitty|iterm|sixel|blocks|off`). `auto` trusts
 * the environment first (terminals announce themselves in TERM, TERM_PROGRAM and friends) and
 * asks the terminal only when that is not enough and both stdin and stdout are terminals.
 */
import type { BlockColors } from './blocks.ts';
import type { PixelSize } from './sixel.ts';
import { queryTerminal, type QueryInput } from './terminal-query.ts';

export type PreviewProtocol = 'kitty' | 'iterm' | 'sixel' | 'blocks';
export type PreviewMode = 'auto' | PreviewProtocol | 'off';

export const PREVIEW_MODES: readonly PreviewMode[] = ['auto', 'kitty', 'iterm', 'sixel', 'blocks', 'off'];

export interface PreviewChoice {
  protocol: PreviewProtocol | 'off';
  /** Colours for half-block images (and for the `blocks` protocol). */
  blockColors: BlockColors;
  /** Cell size in pixels when the terminal told us (sizes sixel images). */
  cellPixels?: PixelSize;
  /** Why this protocol: shown with --verbose. */
  reason: string;
}

type Env = Record<string, string | undefined>;

export function blockColorsFromEnv(env: Env): BlockColors {
  const colorterm = (env.COLORTERM ?? '').toLowerCase();
  if (colorterm === 'truecolor' || colorterm === '24bit') return 'truecolor';
  if (/-direct$/.test(env.TERM ?? '')) return 'truecolor';
  if (env.KITTY_WINDOW_ID || ['iTerm.app', 'WezTerm', 'ghostty', 'vscode'].includes(env.TERM_PROGRAM ?? '')) return 'truecolor';
  return '256';
}

/**
 * The decision the environment allows, or `query` when only the terminal itself can tell.
 * Order matters: tmux and screen first (they hide the outer terminal and passing images through
 * them is unreliable), then terminals that name themselves.
 */
export function previewFromEnv(mode: PreviewMode, env: Env, io: { stdoutIsTTY: boolean; stdinIsTTY: boolean }): PreviewChoice | 'query' {
  const blockColors = blockColorsFromEnv(env);
  const choose = (protocol: PreviewProtocol | 'off', reason: string): PreviewChoice => ({ protocol, blockColors, reason });
  if (mode !== 'auto') return choose(mode, `--preview ${mode}`);
  const term = env.TERM ?? '';
  const program = env.TERM_PROGRAM ?? '';
  if (!io.stdoutIsTTY) return choose('off', 'output is not a terminal');
  if (term === 'dumb') return choose('off', 'TERM=dumb');
  if (env.TMUX || /^(tmux|screen)/.test(term)) return choose('blocks', 'inside tmux/screen: image passthrough is unreliable');
  if (env.KITTY_WINDOW_ID || term === 'xterm-kitty') return choose('kitty', 'kitty');
  if (program === 'ghostty' || term === 'xterm-ghostty') return choose('kitty', 'ghostty');
  if (program === 'iTerm.app' || env.LC_TERMINAL === 'iTerm2') return choose('iterm', 'iTerm2');
  if (program === 'WezTerm') return choose('iterm', 'WezTerm');
  if (program === 'vscode') return choose('blocks', 'VS Code terminal (sixel only when enabled in its settings)');
  if (/sixel|mlterm|foot/.test(term)) return choose('sixel', `TERM=${term}`);
  if (io.stdinIsTTY) return 'query';
  return choose('blocks', 'no graphics terminal recognised');
}

export interface DetectOptions {
  mode: PreviewMode;
  env?: Env;
  stdin?: QueryInput & { isTTY?: boolean };
  stdout?: { isTTY?: boolean; write(text: string): unknown };
  timeoutMs?: number;
}

export async function detectPreview(options: DetectOptions): Promise<PreviewChoice> {
  const env = options.env ?? process.env;
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const decided = previewFromEnv(options.mode, env, { stdoutIsTTY: stdout.isTTY === true, stdinIsTTY: stdin.isTTY === true });
  const canAsk = stdin.isTTY === true && stdout.isTTY === true;
  if (decided !== 'query') {
    // Sixel images are sized in pixels: worth asking for the cell size when told to use sixel.
    if (decided.protocol === 'sixel' && canAsk && !env.TMUX) {
      const replies = await queryTerminal(stdin, stdout, options.timeoutMs ?? 150);
      return { ...decided, cellPixels: replies.cellPixels };
    }
    return decided;
  }
  const blockColors = blockColorsFromEnv(env);
  const replies = await queryTerminal(stdin, stdout, options.timeoutMs ?? 150);
  if (replies.kitty) return { protocol: 'kitty', blockColors, cellPixels: replies.cellPixels, reason: 'terminal answered the kitty graphics query' };
  if (replies.sixel) return { protocol: 'sixel', blockColors, cellPixels: replies.cellPixels, reason: 'terminal reports sixel in its device attributes' };
  const reason = replies.complete ? 'terminal reports no graphics support' : 'terminal did not answer within the time limit';
  return { protocol: 'blocks', blockColors, cellPixels: replies.cellPixels, reason };
}

/** Progress bars one row high, drawn with half-cell resolution so slow progress still moves. */
import { paint, type Style } from './text.ts';

export type BarTone = 'active' | 'complete' | 'failed';

const TONE_STYLE: Record<BarTone, Style> = { active: 'cyan', complete: 'green', failed: 'red' };

/**
 * A bar of exactly `width` columns filled to `ratio` (0–1). In colour the track is a dim line and
 * the fill a bright one (`━`, `╸` for a half cell); without colour `█`, `▌` and `░`.
 */
export function progressBar(ratio: number, width: number, color: boolean, tone: BarTone = 'active'): string {
  const cells = Math.max(0, Math.floor(width));
  const safe = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 0;
  const halves = Math.floor(safe * cells * 2);
  const full = Math.floor(halves / 2);
  const half = halves % 2 === 1;
  const empty = cells - full - (half ? 1 : 0);
  if (!color) return '█'.repeat(full) + (half ? '▌' : '') + '░'.repeat(empty);
  const style = TONE_STYLE[tone];
  return paint(style, '━'.repeat(full) + (half ? '╸' : ''), true) + paint('gray', '━'.repeat(empty), true);
}

/** A bar with a segment gliding back and forth: something is going on, amount unknown. */
export function pulseBar(width: number, timeMs: number, color: boolean): string {
  const cells = Math.max(0, Math.floor(width));
  const segment = Math.max(1, Math.min(cells, Math.round(cells / 5)));
  const travel = Math.max(1, cells - segment);
  const cycle = travel * 2;
  const step = Math.floor(timeMs / 40) % cycle;
  const at = step <= travel ? step : cycle - step;
  const before = at;
  const after = Math.max(0, cells - at - segment);
  if (!color) return '░'.repeat(before) + '█'.repeat(segment) + '░'.repeat(after);
  return paint('gray', '━'.repeat(before), true) + paint('cyan', '━'.repeat(segment), true) + paint('gray', '━'.repeat(after), true);
}

/** Human-readable numbers: durations, sizes, rates, percentages. */

/** `0:07`, `12:03`, `1:02:03`: a clock that does not jump in width every second. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** `0.4s`, `12.3s`, `2m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  const safe = Number.isFinite(ms) ? Math.max(0, ms) : 0;
  if (safe < 60_000) return `${(safe / 1000).toFixed(1)}s`;
  const seconds = Math.round(safe / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** `512 B`, `37.1 KiB`, `1.5 MiB`, `120 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = '';
  for (const next of BYTE_UNITS) {
    value /= 1024;
    unit = next;
    if (value < 1024) break;
  }
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** Sampler speed the way people read it: `4.2 it/s`, or `3.1 s/it` when slower than one a second. */
export function formatRate(stepsPerSecond: number): string {
  if (!(stepsPerSecond > 0) || !Number.isFinite(stepsPerSecond)) return '';
  if (stepsPerSecond >= 1) return `${stepsPerSecond.toFixed(stepsPerSecond >= 100 ? 0 : 1)} it/s`;
  return `${(1 / stepsPerSecond).toFixed(1)} s/it`;
}

/** Whole percent, rounded down so 100 % means finished. */
export function percentOf(value: number, max: number): number {
  if (!(max > 0) || !Number.isFinite(value)) return 0;
  return Math.max(0, Math.min(100, Math.floor((value / max) * 100)));
}

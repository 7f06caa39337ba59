/**
 * Speed of the current node's steps, from the times its progress ticks arrived. The rate is the
 * slope over a sliding window of recent ticks, so one slow or fast step moves it only a little,
 * and the first tick (which includes the node's warm-up) drops out of the window soon.
 */
interface Sample {
  at: number;
  value: number;
}

export class StepRate {
  private readonly windowSize: number;
  private samples: Sample[] = [];
  private max = 0;

  constructor(windowSize = 8) {
    this.windowSize = Math.max(2, windowSize);
  }

  reset(): void {
    this.samples = [];
    this.max = 0;
  }

  add(value: number, max: number, at: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(max) || !Number.isFinite(at)) return;
    const last = this.samples.at(-1);
    // A new pass (value went back, or another step count) starts a new estimate.
    if (max !== this.max || (last && value < last.value)) this.samples = [];
    this.max = max;
    if (this.samples.at(-1)?.value === value) return;
    this.samples.push({ at, value });
    if (this.samples.length > this.windowSize) this.samples.shift();
  }

  /** Steps per second, or undefined until two ticks with time between them have been seen. */
  perSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at || last.value <= first.value) return undefined;
    const rate = ((last.value - first.value) * 1000) / (last.at - first.at);
    return Number.isFinite(rate) && rate > 0 ? rate : undefined;
  }

  /**
   * Time left for the remaining steps, counting down between ticks. It never goes below the time
   * of the steps not yet started, so a slow step holds the estimate instead of showing zero.
   */
  remainingMs(now: number): number | undefined {
    const rate = this.perSecond();
    const last = this.samples.at(-1);
    if (rate === undefined || !last) return undefined;
    const remaining = Math.max(0, this.max - last.value);
    if (remaining === 0) return 0;
    const sinceLast = Math.max(0, now - last.at);
    const atLastTick = (remaining / rate) * 1000;
    const floor = ((remaining - 1) / rate) * 1000;
    const estimate = Math.max(atLastTick - sinceLast, floor, 0);
    return Number.isFinite(estimate) ? estimate : undefined;
  }
}

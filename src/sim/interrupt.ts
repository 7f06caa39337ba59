/**
 * ComfyUI's global interrupt flag: POST /interrupt raises it, the running prompt notices at its
 * next progress tick or node start, and the next prompt clears it when it starts. Simulated
 * work waits on this flag, so an interrupt cuts a sampler step short instead of waiting it out.
 */
import { InterruptedError } from './errors.ts';

export class InterruptFlag {
  private raised = false;
  private readonly sleepers = new Set<() => void>();

  get isRaised(): boolean {
    return this.raised;
  }

  raise(): void {
    this.raised = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  clear(): void {
    this.raised = false;
  }

  throwIfRaised(): void {
    if (this.raised) throw new InterruptedError();
  }

  /**
   * Waits `ms`, ending early when the flag is raised; then throws if it was. Even a zero wait
   * yields to the event loop, so requests (an interrupt) are served between steps.
   */
  async sleep(ms: number): Promise<void> {
    if (ms <= 0 && !this.raised) await new Promise<void>((resolve) => setImmediate(resolve));
    if (ms > 0 && !this.raised) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.sleepers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.sleepers.add(done);
      });
    }
    this.throwIfRaised();
  }
}

/**
 * An event emitter whose events also go to one relay: the job that wraps it (a pool job wraps a
 * job on a server, a pipeline job wraps a pool job). Forwarding then costs one call per event,
 * not a listener per event name registered and removed for every job.
 */
import { EventEmitter } from 'node:events';

// The shapes of EventEmitter's own `emit` (node's typings do not export them).
type Args<K, T> = T extends [never] ? [...args: any[]] : K extends keyof T ? T[K] : never;
type Key<K, T> = T extends [never] ? string | symbol : K | keyof T;

export class RelayingEmitter<T extends Record<keyof T, unknown[]>> extends EventEmitter<T> {
  /** @internal Told every event after this emitter's own listeners. */
  relay: ((event: keyof T, args: unknown[]) => void) | undefined;

  override emit<K>(event: Key<K, T>, ...args: Args<K, T>): boolean {
    const heard = super.emit(event, ...args);
    const relay = this.relay;
    if (relay) relay(event as keyof T, args);
    return heard || relay !== undefined;
  }
}

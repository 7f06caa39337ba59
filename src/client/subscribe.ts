/** Listens to several events of an emitter at once; the returned function removes them all. */
type Listener<Args extends unknown[]> = (...args: Args) => void;

export type Handlers<Events extends Record<string, unknown[]>> = { [K in keyof Events]?: Listener<Events[K]> };

interface Emitter<Events extends Record<string, unknown[]>> {
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): unknown;
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): unknown;
}

export function subscribe<Events extends Record<string, unknown[]>>(emitter: Emitter<Events>, handlers: Handlers<Events>): () => void {
  const entries = Object.entries(handlers) as [keyof Events, Listener<Events[keyof Events]>][];
  for (const [event, listener] of entries) emitter.on(event, listener);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    for (const [event, listener] of entries) emitter.off(event, listener);
  };
}

/** Ctrl-C: the first press asks the job to stop cleanly, a second one quits at once. */
export function onInterrupt(handlers: { first: () => void; second: () => void }): () => void {
  let presses = 0;
  const listener = (): void => {
    presses += 1;
    if (presses === 1) handlers.first();
    else handlers.second();
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}

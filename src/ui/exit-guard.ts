/**
 * Gives the terminal back (cursor shown, line wrap on) however the process ends. On SIGINT and
 * SIGTERM the guard only acts when nobody else listens: a command that handles Ctrl-C itself
 * (to cancel the job) stops the display on its own, and a listener here must not swallow the
 * signal's default exit when nobody does.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export function guardTerminal(restore: () => void): () => void {
  let removed = false;
  const onExit = (): void => restore();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    restore();
    remove();
    // Nobody else handles it: end the way the signal would have ended us.
    process.kill(process.pid, signal);
  };
  const remove = (): void => {
    if (removed) return;
    removed = true;
    process.off('exit', onExit);
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return remove;
}

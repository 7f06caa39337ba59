/**
 * The verdict on a finished run, from everything observed: the events of the socket and the
 * history's status. Interrupted beats failed beats succeeded; an `execution_error` alone is not
 * a failure (a blocked node reports one and the run goes on).
 */
import { ExecutionError, InterruptedError } from './job-errors.ts';
import type { MessageData } from './messages.ts';
import { collectOutputs, mergeOutputs } from './outputs.ts';
import type { HistoryEntry } from './schemas-http.ts';
import type { NodeRef, OutputRef, TextOutput } from './types.ts';

export interface ObservedRun {
  promptId: string;
  /** Where `execution_interrupted` said it stopped; null when it was not interrupted. */
  interruptedAt: NodeRef | undefined | null;
  lastError: MessageData<'execution_error'> | undefined;
  succeeded: boolean;
  cancelRequested: boolean;
  /** Files announced by `executed` events: saved even when the run failed. */
  seenOutputs: readonly OutputRef[];
  ref(nodeId: string, classType?: string | null): NodeRef;
}

/** The outputs of a successful run; throws InterruptedError or ExecutionError (with the partial outputs) otherwise. */
export function judgeRun(history: HistoryEntry, run: ObservedRun): { outputs: OutputRef[]; texts: TextOutput[] } {
  const { outputs, texts } = collectOutputs(history);
  const partial = mergeOutputs([...outputs], [...run.seenOutputs]);
  const messages = (history.status?.messages ?? []) as [string, Record<string, unknown>][];
  const historyInterrupted = messages.find(([name]) => name === 'execution_interrupted')?.[1];
  const historyError = [...messages].reverse().find(([name]) => name === 'execution_error')?.[1];
  const statusStr = history.status?.status_str;

  if (run.interruptedAt !== null || historyInterrupted) {
    const nodeId = historyInterrupted?.node_id as string | undefined;
    const node = run.interruptedAt ?? (nodeId ? run.ref(nodeId, historyInterrupted?.node_type as string) : undefined);
    throw new InterruptedError({ promptId: run.promptId, node, outputs: partial, byUser: run.cancelRequested });
  }
  const error = run.lastError ?? (historyError as MessageData<'execution_error'> | undefined);
  if (statusStr === 'error' || (!run.succeeded && statusStr !== 'success' && error)) {
    const nodeId = error?.node_id ?? undefined;
    throw new ExecutionError({
      promptId: run.promptId,
      node: nodeId ? run.ref(nodeId, error?.node_type) : undefined,
      exceptionType: error?.exception_type ?? '',
      exceptionMessage: error?.exception_message ?? 'the server reported an error without details',
      traceback: error?.traceback ?? [],
      outputs: partial,
    });
  }
  return { outputs, texts };
}

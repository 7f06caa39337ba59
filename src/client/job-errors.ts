/** Typed failures of one job, each carrying what a person needs to understand and act on it. */
import { PyrosError } from '../errors.ts';
import type { NodeRef, OutputRef } from './types.ts';

/** Outputs the server produced before the job failed; saving them means nothing is lost. */
export interface PartialOutputs {
  promptId: string;
  outputs: OutputRef[];
}

export class ExecutionError extends PyrosError implements PartialOutputs {
  readonly promptId: string;
  readonly node: NodeRef | undefined;
  readonly exceptionType: string;
  readonly exceptionMessage: string;
  readonly traceback: string[];
  readonly outputs: OutputRef[];

  constructor(init: { promptId: string; node?: NodeRef; exceptionType: string; exceptionMessage: string; traceback: string[]; outputs: OutputRef[] }) {
    const where = init.node ? `node #${init.node.nodeId} "${init.node.title}"${init.node.classType && init.node.classType !== init.node.title ? ` (${init.node.classType})` : ''}` : 'a node';
    const what = [init.exceptionType, init.exceptionMessage.trim()].filter(Boolean).join(': ') || 'unknown error';
    super('execution', `The workflow failed in ${where}: ${what}`, {
      hint: 'The message above comes from the node itself; fix its inputs or models and run again (--verbose shows the traceback).',
    });
    this.name = 'ExecutionError';
    this.promptId = init.promptId;
    this.node = init.node;
    this.exceptionType = init.exceptionType;
    this.exceptionMessage = init.exceptionMessage;
    this.traceback = init.traceback;
    this.outputs = init.outputs;
  }
}

export class InterruptedError extends PyrosError implements PartialOutputs {
  readonly promptId: string;
  readonly node: NodeRef | undefined;
  readonly outputs: OutputRef[];

  constructor(init: { promptId: string; node?: NodeRef; outputs: OutputRef[]; byUser: boolean }) {
    const at = init.node ? ` while node #${init.node.nodeId} "${init.node.title}" was running` : '';
    super(
      init.byUser ? 'cancelled' : 'interrupted',
      init.byUser ? `Cancelled: prompt ${init.promptId} was stopped${at}.` : `The prompt was interrupted on the server${at}.`,
      { hint: init.byUser ? undefined : 'Someone (or another client) pressed interrupt or cleared the queue; run again to retry.' },
    );
    this.name = 'InterruptedError';
    this.promptId = init.promptId;
    this.node = init.node;
    this.outputs = init.outputs;
  }
}

export function partialOutputsOf(error: unknown): OutputRef[] {
  return error instanceof ExecutionError || error instanceof InterruptedError ? error.outputs : [];
}

/** Typed failures of one job, each carrying what a person needs to understand and act on it. */
import { PyrosError, type ErrorFields, type ErrorNode } from '../errors.ts';
import type { NodeRef, OutputRef } from './types.ts';

/** Outputs the server produced before the job failed; saving them means nothing is lost. */
export interface PartialOutputs {
  promptId: string;
  outputs: OutputRef[];
}

function errorNode(node: NodeRef | undefined): ErrorNode | undefined {
  return node && { nodeId: node.nodeId, title: node.title, ...(node.classType ? { classType: node.classType } : {}) };
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
      reason: 'node-failed',
      fields: { promptId: init.promptId, node: errorNode(init.node), ...(init.exceptionType ? { exceptionType: init.exceptionType } : {}) },
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
    const fields = { promptId: init.promptId, node: errorNode(init.node) };
    super(
      ...(init.byUser
        ? (['cancelled', `Cancelled: prompt ${init.promptId} was stopped${at}.`, { reason: 'by-user', fields }] as const)
        : (['interrupted', `The prompt was interrupted on the server${at}.`, { reason: 'on-server', fields }] as const)),
    );
    this.name = 'InterruptedError';
    this.promptId = init.promptId;
    this.node = init.node;
    this.outputs = init.outputs;
  }
}

/** The job's own time limit was reached; `outputs` are the files the server had produced by then. */
export class JobTimeoutError extends PyrosError implements PartialOutputs {
  readonly promptId: string;
  /** Filled in when the job ends (the server is told to stop first). */
  readonly outputs: OutputRef[] = [];

  constructor(message: string, init: { reason: 'job' | 'job-not-accepted'; fields: ErrorFields; promptId: string }) {
    super('timeout', message, { reason: init.reason, fields: init.fields });
    this.name = 'JobTimeoutError';
    this.promptId = init.promptId;
  }
}

export function partialOutputsOf(error: unknown): OutputRef[] {
  return error instanceof ExecutionError || error instanceof InterruptedError || error instanceof JobTimeoutError ? error.outputs : [];
}

/** A limit in error messages: `5 s`, `2.5 s`. */
export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Errors of the editor → API conversion; all are bad input, kind 'usage'. */
import { PyrosError } from '../../errors.ts';

export interface MissingNodeClass {
  classType: string;
  /** Execution ids (`outer:inner` inside subgraphs) and titles of the nodes that use it. */
  nodes: { id: string; title?: string }[];
  /** The node package that provides it, as the workflow records it (`properties.cnr_id` / `aux_id`). */
  packages: string[];
}

/** The workflow uses node classes the server's node definitions do not have. */
export class MissingNodeClassesError extends PyrosError {
  readonly missing: MissingNodeClass[];

  constructor(missing: MissingNodeClass[]) {
    const lines = missing.map((entry) => {
      const nodes = entry.nodes.map((node) => (node.title ? `${node.id} "${node.title}"` : node.id)).join(', ');
      const from = entry.packages.length > 0 ? ` — provided by ${entry.packages.join(' or ')}` : '';
      return `  ${entry.classType}: node${entry.nodes.length === 1 ? '' : 's'} ${nodes}${from}`;
    });
    const count = missing.length === 1 ? 'a node class' : `${missing.length} node classes`;
    super('usage', `The workflow uses ${count} the server does not have:\n${lines.join('\n')}`, {
      reason: 'workflow-missing-classes',
      fields: { candidates: missing.map((entry) => entry.classType), count: missing.length },
    });
    this.name = 'MissingNodeClassesError';
    this.missing = missing;
  }
}

export type ConversionProblem = 'workflow-not-editor' | 'workflow-already-api' | 'definitions-invalid' | 'subgraph-contains-itself' | 'links-loop';

export function usageError(message: string, problem: ConversionProblem): PyrosError {
  return new PyrosError('usage', message, { reason: problem });
}

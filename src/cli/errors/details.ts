/** The detail lines under an error's title: each failing input of a rejected workflow. */
import type { PromptRejectedError } from '../../client/api.ts';
import { nodeRef } from '../../client/node-names.ts';
import type { ApiWorkflow } from '../../workflow/types.ts';

function detailText(details: unknown): string {
  if (details === undefined || details === null || details === '') return '';
  return typeof details === 'string' ? details : JSON.stringify(details);
}

/** One line per failing input of a rejected workflow: node id, title, class, message and details. */
export function rejectionLines(error: PromptRejectedError, workflow: ApiWorkflow | undefined): string[] {
  const lines: string[] = [];
  const top = detailText(error.error.details);
  if (top && Object.keys(error.nodeErrors).length === 0) lines.push(`  ${top}`);
  for (const [nodeId, nodeError] of Object.entries(error.nodeErrors)) {
    const ref = workflow ? nodeRef(workflow, nodeId, undefined, nodeError.class_type) : undefined;
    const title = ref?.title ?? nodeError.class_type ?? `#${nodeId}`;
    const cls = nodeError.class_type && nodeError.class_type !== title ? ` (${nodeError.class_type})` : '';
    lines.push(`  node #${nodeId} "${title}"${cls}:`);
    for (const item of nodeError.errors) {
      const details = detailText(item.details);
      lines.push(`    - ${item.message || item.type}${details ? `: ${details}` : ''}`);
    }
  }
  return lines;
}

/** Loading a workflow in ComfyUI's API format (the graph POST /prompt takes) from any workflow source. */
import type { ApiWorkflow } from './types.ts';
import { PyrosError } from '../errors.ts';
import { parseJsonSource } from './json-source.ts';
import { readWorkflowSource, type WorkflowSource } from './source.ts';

/** The API workflow of a source, or why it has none (an editor workflow alone is not converted here). */
export function requireApiWorkflow(source: WorkflowSource, name: string): ApiWorkflow {
  if (source.api) return source.api;
  if (source.origin === 'editor-json') {
    throw new PyrosError('usage', `${name} is a workflow in the ComfyUI editor format (top-level "nodes" and "links"), not the API format pyros submits.`, {
      reason: 'workflow-editor-format',
      fields: { file: name },
    });
  }
  throw new PyrosError('usage', `${name} holds only the editor-format workflow (its ${source.format} metadata has no "prompt"), not the API format pyros submits.`, {
    reason: 'workflow-editor-format',
    fields: { file: name },
  });
}

/** Reads a workflow file (JSON, or an image, video or audio file ComfyUI saved) and returns its API workflow. */
export async function loadWorkflow(path: string): Promise<ApiWorkflow> {
  return requireApiWorkflow(await readWorkflowSource(path), path);
}

/** Parses the text of a workflow file; `source` names it in messages (a path, or "stdin"). */
export function parseWorkflow(text: string, source: string): ApiWorkflow {
  return requireApiWorkflow(parseJsonSource(text, source), source);
}

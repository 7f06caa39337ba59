/**
 * Reading a workflow from JSON text: an API-format graph, the body of POST /prompt, a history
 * entry, an editor-format workflow, or the .json sidecar pyros writes beside each output.
 */
import { PyrosError } from '../errors.ts';
import { checkApiWorkflow, isEditorWorkflow, isObject, isUnrelatedObject } from './api-shape.ts';
import { locateJsonError } from './json-position.ts';
import type { EditorWorkflow, WorkflowSource } from './source.ts';

export function parseJsonSource(text: string, source: string): WorkflowSource {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (json.trim() === '') throw new PyrosError('usage', `${source} is empty.`, { reason: 'workflow-empty', fields: { file: source } });

  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw invalidJson(source, json, error);
  }
  return classify(data, source);
}

function invalidJson(source: string, text: string, error: unknown): PyrosError {
  const message = error instanceof Error ? error.message : String(error);
  const where = locateJsonError(message, text);
  if (!where) return new PyrosError('usage', `${source}: invalid JSON: ${message}`, { reason: 'workflow-invalid-json', fields: { file: source }, cause: error });
  const lineText = text.split('\n')[where.line - 1]?.replace(/\r$/, '') ?? '';
  const shown = Array.from(lineText);
  const start = Math.max(0, where.column - 60);
  const excerpt = { text: shown.slice(start, start + 100).join(''), column: where.column - start };
  return new PyrosError('usage', `${source}:${where.line}:${where.column}: invalid JSON: ${where.reason}`, {
    reason: 'workflow-invalid-json',
    fields: { file: source, line: where.line, column: where.column, excerpt },
    cause: error,
  });
}

/** The editor workflow the frontend sends beside a prompt, in extra_data.extra_pnginfo.workflow. */
function editorIn(extraData: unknown): EditorWorkflow | undefined {
  const workflow = isObject(extraData) && isObject(extraData['extra_pnginfo']) ? extraData['extra_pnginfo']['workflow'] : undefined;
  return isEditorWorkflow(workflow) ? workflow : undefined;
}

/** The API workflow of a pyros sidecar: `workflow` next to the prompt id, file and client that describe an output. */
function sidecarWorkflow(data: Record<string, unknown>): unknown {
  const workflow = data['workflow'];
  if (!isObject(workflow) || typeof workflow['class_type'] === 'string') return undefined;
  const client = data['client'];
  const fromPyros = typeof client === 'string' && client.startsWith('pyros');
  const describesOutput = typeof data['prompt_id'] === 'string' && 'file' in data;
  return fromPyros || describesOutput ? workflow : undefined;
}

function withEditor(source: WorkflowSource, editor: EditorWorkflow | undefined): WorkflowSource {
  return editor === undefined ? source : { ...source, editor };
}

/**
 * Accepts the graph itself, the body of POST /prompt (`{"prompt": {…}, "extra_data": …}`), a
 * history entry (`{"prompt": [number, id, {…}, extra_data, outputs], …}`) or a whole
 * GET /history/{id} answer; the editor workflow riding in extra_data comes along.
 */
function classify(data: unknown, source: string): WorkflowSource {
  if (!isObject(data)) return { origin: 'api-json', format: 'JSON', api: checkApiWorkflow(data, source) };
  if (isEditorWorkflow(data)) return { origin: 'editor-json', format: 'JSON', editor: data };

  const sidecar = sidecarWorkflow(data);
  if (sidecar !== undefined) return { origin: 'sidecar', format: 'JSON', api: checkApiWorkflow(sidecar, `${source} (its "workflow")`) };

  const prompt = data['prompt'];
  if (isObject(prompt) && typeof prompt['class_type'] !== 'string') {
    return withEditor({ origin: 'api-json', format: 'JSON', api: checkApiWorkflow(prompt, source) }, editorIn(data['extra_data']));
  }
  if (Array.isArray(prompt) && isObject(prompt[2])) {
    return withEditor({ origin: 'api-json', format: 'JSON', api: checkApiWorkflow(prompt[2], source) }, editorIn(prompt[3]));
  }

  const entries = Object.values(data);
  const historyEntries = entries.filter((entry) => isObject(entry) && Array.isArray(entry['prompt']));
  if (historyEntries.length > 0 && historyEntries.length === entries.length) {
    if (historyEntries.length > 1) {
      throw new PyrosError('usage', `${source} holds ${historyEntries.length} history entries; pyros needs one workflow.`, {
        reason: 'workflow-several-entries',
        fields: { file: source, count: historyEntries.length },
      });
    }
    return classify(historyEntries[0], source);
  }
  if (isUnrelatedObject(data)) {
    throw new PyrosError('usage', `${source} is JSON but not a ComfyUI workflow: it has neither nodes with a "class_type" (API format) nor "nodes" and "links" (editor format).`, {
      reason: 'workflow-not-comfyui',
      fields: { file: source },
    });
  }
  return { origin: 'api-json', format: 'JSON', api: checkApiWorkflow(data, source) };
}

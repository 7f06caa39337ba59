/** Reading a workflow file in ComfyUI's API format, with an explained error for every way it can be wrong. */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PyrosError } from '../errors.ts';
import type { ApiWorkflow } from '../client/types.ts';
import { kindOf } from './graph.ts';
import { locateJsonError } from './json-position.ts';

export async function loadWorkflow(path: string): Promise<ApiWorkflow> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new PyrosError('usage', `${path} is a directory, not a workflow file.`, { reason: 'workflow-is-directory', fields: { path } });
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof PyrosError) throw error;
    throw readError(path, error);
  }
  return parseWorkflow(text, path);
}

function readError(path: string, error: unknown): PyrosError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const absolute = resolve(path);
    return new PyrosError('usage', `Workflow file not found: ${path}`, {
      reason: 'workflow-not-found',
      fields: { path, ...(absolute === path ? {} : { resolvedPath: absolute }) },
      cause: error,
    });
  }
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : error instanceof Error ? error.message : String(error);
  return new PyrosError('usage', `Cannot read workflow file ${path}: ${reason}`, { reason: 'workflow-unreadable', fields: { path, ...(code ? { code } : {}) }, cause: error });
}

/** Parses the text of a workflow file; `source` names it in messages (a path, or "stdin"). */
export function parseWorkflow(text: string, source: string): ApiWorkflow {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (json.trim() === '') throw new PyrosError('usage', `${source} is empty.`, { reason: 'workflow-empty', fields: { file: source } });

  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw invalidJson(source, json, error);
  }
  return checkWorkflow(unwrap(data, source), source);
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Accepts the graph itself, the body of POST /prompt (`{"prompt": {…}}`), a history entry
 * (`{"prompt": [number, id, {…}, extra, outputs], …}`) or a whole GET /history/{id} answer.
 */
function unwrap(data: unknown, source: string): unknown {
  if (!isObject(data)) return data;
  if (Array.isArray(data['nodes']) && 'links' in data) {
    throw new PyrosError('usage', `${source} is a workflow in the ComfyUI editor format (top-level "nodes" and "links"), not the API format pyros submits.`, {
      reason: 'workflow-editor-format',
      fields: { file: source },
    });
  }
  const prompt = data['prompt'];
  if (isObject(prompt) && typeof prompt['class_type'] !== 'string') return prompt;
  if (Array.isArray(prompt) && isObject(prompt[2])) return prompt[2];

  const entries = Object.values(data);
  const historyEntries = entries.filter((entry) => isObject(entry) && Array.isArray(entry['prompt']));
  if (historyEntries.length > 0 && historyEntries.length === entries.length) {
    if (historyEntries.length > 1) {
      throw new PyrosError('usage', `${source} holds ${historyEntries.length} history entries; pyros needs one workflow.`, {
        reason: 'workflow-several-entries',
        fields: { file: source, count: historyEntries.length },
      });
    }
    return unwrap(historyEntries[0], source);
  }
  return data;
}

function checkWorkflow(data: unknown, source: string): ApiWorkflow {
  if (!isObject(data)) {
    throw new PyrosError('usage', `${source} is not a workflow: expected a JSON object of nodes, found ${kindOf(data)}.`, { reason: 'workflow-not-object', fields: { file: source } });
  }
  const ids = Object.keys(data);
  if (ids.length === 0) throw new PyrosError('usage', `${source} contains no nodes.`, { reason: 'workflow-no-nodes', fields: { file: source } });

  for (const id of ids) {
    const problem = nodeProblem(data[id]);
    if (problem !== undefined) {
      throw new PyrosError('usage', `${source} is not an API-format workflow: node "${id}" ${problem}.`, { reason: 'workflow-bad-node', fields: { file: source, node: { nodeId: id } } });
    }
  }
  return data as ApiWorkflow;
}

function nodeProblem(node: unknown): string | undefined {
  if (!isObject(node)) return `is ${kindOf(node)}, not an object`;
  const classType = node['class_type'];
  if (classType === undefined) return 'has no "class_type"';
  if (typeof classType !== 'string') return `has a "class_type" that is ${kindOf(classType)}, not a class name`;
  if (classType.trim() === '') return 'has an empty "class_type"';
  if (!isObject(node['inputs'])) {
    return node['inputs'] === undefined ? 'has no "inputs"' : `has "inputs" that are ${kindOf(node['inputs'])}, not an object`;
  }
  return undefined;
}

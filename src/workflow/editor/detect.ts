/** Telling an editor workflow from an API workflow by its content. */

/**
 * True when `data` looks like a workflow saved by the ComfyUI editor: an object with a `nodes`
 * array whose entries carry an id and a type (and a `links` array when it has any links).
 * An API-format workflow is a map of node id → `{class_type, inputs}` and never matches.
 */
export function isEditorWorkflow(data: unknown): boolean {
  if (!isObject(data)) return false;
  const { nodes, links } = data;
  if (!Array.isArray(nodes)) return false;
  if (links !== undefined && !Array.isArray(links)) return false;
  return nodes.every((node) => isObject(node) && (typeof node.id === 'number' || typeof node.id === 'string') && typeof node.type === 'string');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * From the metadata of a media file to a workflow source: `prompt` holds the API prompt that ran,
 * `workflow` the editor workflow (both JSON written by Python's json.dumps).
 */
import { PyrosError } from '../../errors.ts';
import { checkApiWorkflow, isEditorWorkflow, isObject } from '../api-shape.ts';
import type { WorkflowOrigin, WorkflowSource } from '../source.ts';
import type { EmbeddedText, MediaMetadata } from './problems.ts';

/** Python's json.dumps writes NaN and ±Infinity for floats JSON cannot hold; they become null. */
const NON_FINITE = /"(?:\\.|[^"\\])*"|(?<![\w.])(-?Infinity|NaN)(?![\w.])/g;

/** Formats ComfyUI's own save nodes never write a workflow into. */
const NEVER_EMBEDDED: Record<string, string> = {
  JPEG: 'ComfyUI does not embed workflows in JPEG files. ',
  GIF: 'ComfyUI does not embed workflows in GIF files. ',
  TIFF: 'ComfyUI does not embed workflows in TIFF files. ',
  WAV: 'ComfyUI does not embed workflows in WAV files. ',
};

/** Keys every FFmpeg-written file has: not worth naming. */
const ROUTINE_KEYS = new Set(['encoder', 'major_brand', 'minor_version', 'compatible_brands', 'creation_time', 'duration']);

function originOf(metadata: MediaMetadata): WorkflowOrigin {
  if (metadata.kind === 'video') return 'video';
  if (metadata.kind === 'audio') return 'audio';
  return metadata.format === 'WebP' ? 'webp' : 'png';
}

function parseEmbedded(entry: EmbeddedText, name: string, metadata: MediaMetadata): unknown {
  try {
    return JSON.parse(entry.text);
  } catch {
    // fall through: maybe only non-finite numbers stand in the way
  }
  try {
    return JSON.parse(entry.text.replace(NON_FINITE, (match, token: string | undefined) => (token ? 'null' : match)));
  } catch (error) {
    throw new PyrosError('usage', `${name}: the "${entry.key}" embedded in this ${metadata.format} (${entry.where}) is not valid JSON: ${(error as Error).message}`, {
      reason: 'media-bad-json',
      fields: { file: name, name: entry.key },
      cause: error,
    });
  }
}

function noWorkflow(name: string, metadata: MediaMetadata): PyrosError {
  const others = [...new Set(metadata.entries.map((entry) => entry.key))].filter((key) => !ROUTINE_KEYS.has(key.toLowerCase()));
  const found = others.length > 0 ? ` It holds other metadata (${others.slice(0, 8).map((key) => `"${key}"`).join(', ')}) but no "prompt" or "workflow".` : '';
  const never = NEVER_EMBEDDED[metadata.format];
  return new PyrosError('usage', `${name}: this ${metadata.format} ${metadata.kind === 'image' ? 'image' : 'file'} has no workflow embedded.${never ? ` ${never.trim()}` : ''}${found}`, {
    reason: 'media-no-workflow',
    fields: { file: name, candidates: others.slice(0, 8) },
  });
}

export function workflowFromMedia(metadata: MediaMetadata, name: string): WorkflowSource {
  const byKey = new Map(metadata.entries.map((entry) => [entry.key.toLowerCase(), entry]));
  const promptEntry = byKey.get('prompt');
  const workflowEntry = byKey.get('workflow');
  if (!promptEntry && !workflowEntry) throw noWorkflow(name, metadata);

  const source: WorkflowSource = { origin: originOf(metadata), format: metadata.format };
  if (promptEntry) source.api = checkApiWorkflow(parseEmbedded(promptEntry, name, metadata), `${name} (its embedded "prompt")`);
  if (workflowEntry) {
    const workflow = parseEmbedded(workflowEntry, name, metadata);
    if (isEditorWorkflow(workflow)) source.editor = workflow;
    else if (!promptEntry && isObject(workflow)) source.api = checkApiWorkflow(workflow, `${name} (its embedded "workflow")`);
    else {
      throw new PyrosError('usage', `${name}: the "workflow" embedded in this ${metadata.format} is not an editor-format workflow (no "nodes" and "links").`, {
        reason: 'media-not-editor-workflow',
        fields: { file: name },
      });
    }
  }
  return source;
}

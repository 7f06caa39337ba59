/**
 * The workflow a command runs, whatever was given: an API-format file, an editor-format file
 * (converted with the server's node definitions, cached on disk, or `--object-info FILE`), an
 * image, video or audio file ComfyUI saved (its embedded prompt is what ran), or a pyros sidecar.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import envPaths from 'env-paths';
import type { Client } from '../client/client.ts';
import type { ApiWorkflow } from '../workflow/types.ts';
import { isPyrosError } from '../errors.ts';
import { readWorkflowSource, type WorkflowOrigin } from '../workflow/index.ts';
import type { ConversionResult, EditorWorkflow } from '../workflow/editor/index.ts';
import { CliError } from './errors/cli-error.ts';
import { explain } from './errors/explain.ts';

export interface WorkflowInput {
  path: string;
  origin: WorkflowOrigin;
  /** The API prompt to run. */
  workflow: ApiWorkflow;
  /** The editor workflow that goes into the saved files, and the conversion that maps its widgets. */
  editor?: { workflow: EditorWorkflow; conversion?: ConversionResult };
  /** The conversion, when the prompt was made from the editor workflow here. */
  converted?: ConversionResult;
  /** Things worth telling (with --verbose: what the conversion left out or expanded). */
  notes: string[];
}

/** Where node definitions come from: a file given with --object-info, or the servers (cached on disk). */
export interface DefinitionsSource {
  file?: string;
  clients: () => readonly Client[];
  cacheDir?: string;
}

export function definitionsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PYROS_CACHE ? join(env.PYROS_CACHE, 'object-info') : join(envPaths('pyros', { suffix: '' }).cache, 'object-info');
}

/** The server's node definitions: from the file, else from the first server that answers (cached per server and ComfyUI version). */
export async function nodeDefinitions(source: DefinitionsSource): Promise<unknown> {
  if (source.file) return readDefinitionsFile(source.file);
  let first: unknown;
  for (const client of source.clients()) {
    try {
      const stats = await client.api.systemStats();
      const system = stats.system as { comfyui_version?: unknown } | undefined;
      const comfyuiVersion = typeof system?.comfyui_version === 'string' ? system.comfyui_version : 'unknown';
      const { cachedDefinitions } = await import('../workflow/editor/definitions-cache.ts');
      return await cachedDefinitions(source.cacheDir ?? definitionsCacheDir(), { server: client.endpoint.display, comfyuiVersion }, () => client.api.objectInfo());
    } catch (error) {
      first ??= error;
    }
  }
  throw first ?? new CliError('usage', 'No server to read the node definitions from.', { hint: 'Give --server URL, or --object-info FILE (the answer of GET /object_info).' });
}

async function readDefinitionsFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('usage', `--object-info: cannot read ${path} (${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}).`, {
      hint: 'Save the answer of GET /object_info of your server into a file: curl http://HOST:8188/object_info > object_info.json',
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError('usage', `--object-info: ${path} is not valid JSON (${(error as Error).message}).`, { hint: 'Give the answer of GET /object_info, saved as it is.', cause: error });
  }
}

export async function loadWorkflowInput(path: string, definitions: () => Promise<unknown>): Promise<WorkflowInput> {
  const source = await readWorkflowSource(path);
  const notes: string[] = [];
  const editor = source.editor as EditorWorkflow | undefined;
  if (source.api) {
    if (!editor) return { path, origin: source.origin, workflow: source.api, notes };
    // The prompt that ran is run again; converting the editor workflow only tells where its values are stored.
    try {
      const { convertEditorWorkflow } = await import('../workflow/editor/convert.ts');
      const conversion = convertEditorWorkflow(editor, await definitions());
      return { path, origin: source.origin, workflow: source.api, editor: { workflow: editor, conversion }, notes };
    } catch (error) {
      notes.push(`the editor workflow embedded in ${path} is saved with the outputs as it is (the values this run sets are not written into it: ${isPyrosError(error) ? explain(error).title : String(error)})`);
      return { path, origin: source.origin, workflow: source.api, editor: { workflow: editor }, notes };
    }
  }
  if (!editor) throw new CliError('usage', `${path} holds no workflow.`);
  // The converter is loaded only for an editor workflow.
  const { convertEditorWorkflow } = await import('../workflow/editor/convert.ts');
  const conversion = convertEditorWorkflow(editor, await definitions());
  notes.push(...describeConversion(conversion));
  return { path, origin: source.origin, workflow: conversion.prompt, editor: { workflow: editor, conversion }, converted: conversion, notes };
}

/** What the conversion left out or expanded, one line each. */
export function describeConversion(conversion: ConversionResult): string[] {
  const { report } = conversion;
  const name = (node: { id: string; type: string; title?: string }): string => `#${node.id} ${node.title ? `"${node.title}" ` : ''}(${node.type})`;
  const lines: string[] = [];
  if (report.muted.length > 0) lines.push(`left out (muted): ${report.muted.map(name).join(', ')}`);
  if (report.bypassed.length > 0) lines.push(`bypassed (inputs passed through): ${report.bypassed.map(name).join(', ')}`);
  if (report.notes.length > 0) lines.push(`left out (editor only): ${report.notes.map(name).join(', ')}`);
  for (const dropped of report.droppedInputs) lines.push(`input ${dropped.id}.${dropped.input} left out: ${dropped.reason} (${dropped.detail})`);
  const { expanded } = report;
  for (const group of expanded.groupNodes) lines.push(`group node #${group.id} "${group.name}" expanded (as #${group.newId})`);
  for (const subgraph of expanded.subgraphs) lines.push(`subgraph #${subgraph.id} "${subgraph.name}" expanded into ${subgraph.nodes.length} node${subgraph.nodes.length === 1 ? '' : 's'}`);
  for (const primitive of expanded.primitives) lines.push(`primitive #${primitive.id} written into ${primitive.targets.map((id) => `#${id}`).join(', ') || 'nothing'}`);
  if (expanded.reroutes.length > 0) lines.push(`reroutes followed: ${expanded.reroutes.map((id) => `#${id}`).join(', ')}`);
  if (expanded.linkReroutes > 0) lines.push(`link reroutes: ${expanded.linkReroutes} (drawing only)`);
  for (const widget of report.approximated) lines.push(`#${widget.id}.${widget.widget} (${widget.type}) sent as stored (the editor computes it in the browser)`);
  return lines;
}

/**
 * Image inputs: `--input FILE` (repeatable) goes to the image loaders of the workflow in node-id
 * order; `--set NODE.INPUT=@FILE` to that exact input. Files are checked here, before anything is
 * sent; the client uploads them just before each job is submitted (once per server).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ApiWorkflow } from '../workflow/types.ts';
import { CliError } from './errors/cli-error.ts';
import { describeInput, nodeTitle } from '../workflow/index.ts';
import { parseSetArg, resolveTargetArg } from './set-args.ts';

export interface PendingUpload {
  /** The path as given. */
  path: string;
  nodeId: string;
  input: string;
  title: string;
  classType: string;
  /** `--input` or `--set "NODE.INPUT=@FILE"`, for messages. */
  option: string;
}

/** Splits `--set` entries into values (kept as text) and `@file` uploads. */
export function splitFileSets(sets: readonly string[]): { values: string[]; files: string[] } {
  const values: string[] = [];
  const files: string[] = [];
  for (const entry of sets) (parseSetArg(entry).kind === 'file' ? files : values).push(entry);
  return { values, files };
}

const byNodeId = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** Nodes that load an image by name: an `image` input holding a string (LoadImage, LoadImageMask, LoadImageOutput, …). */
export function imageLoaders(workflow: ApiWorkflow): string[] {
  return Object.keys(workflow)
    .filter((id) => typeof workflow[id]?.inputs.image === 'string')
    .sort(byNodeId);
}

async function checkFile(path: string, option: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    const reason = info.code === 'ENOENT' || info.code === 'ENOTDIR' ? 'no such file' : info.code === 'EACCES' ? 'permission denied' : info.message;
    throw new CliError('usage', `${option}: cannot read ${path} (${reason}); nothing was sent.`, { hint: `Check the path (looked for ${resolve(path)}).` });
  }
  if (!info.isFile()) throw new CliError('usage', `${option}: ${path} is not a file; nothing was sent.`, { hint: 'Give the path of an image file to upload.' });
}

/** Resolves where every file goes and checks that each exists; nothing is sent yet. */
export async function planUploads(workflow: ApiWorkflow, inputs: readonly string[], fileSets: readonly string[]): Promise<PendingUpload[]> {
  const uploads: PendingUpload[] = [];
  const describe = (nodeId: string, input: string, path: string, option: string): PendingUpload => {
    const node = workflow[nodeId];
    return { path, nodeId, input, title: node ? nodeTitle(node) : nodeId, classType: node?.class_type ?? '', option };
  };
  if (inputs.length > 0) {
    const loaders = imageLoaders(workflow);
    if (loaders.length === 0) {
      throw new CliError('usage', `--input ${inputs[0]}: the workflow has no image loader (a node such as LoadImage whose "image" input holds a file name).`, {
        hint: 'Upload into another input with --set NODE.INPUT=@FILE.',
      });
    }
    if (inputs.length > loaders.length) {
      throw new CliError('usage', `${inputs.length} --input files, but the workflow has ${loaders.length} image loader${loaders.length === 1 ? '' : 's'}: ${loaders.map((id) => describeInput(workflow, { nodeId: id, input: 'image' })).join(', ')}.`, {
        hint: 'Give one --input per image loader (they are filled in node-id order), or name inputs with --set NODE.image=@FILE.',
      });
    }
    inputs.forEach((path, index) => uploads.push(describe(loaders[index] as string, 'image', path, '--input')));
  }
  for (const entry of fileSets) {
    const set = parseSetArg(entry);
    if (set.kind !== 'file') continue;
    const ref = resolveTargetArg(workflow, set.target, '--set');
    uploads.push(describe(ref.nodeId, ref.input, set.path, `--set "${set.text}"`));
  }
  for (const upload of uploads) await checkFile(upload.path, upload.option);
  return uploads;
}

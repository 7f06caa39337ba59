/**
 * Image inputs: `--input FILE` (repeatable) goes to the image loaders of the workflow in node-id
 * order; `--set NODE.INPUT=@FILE` to that exact input. Files are checked before anything is sent,
 * uploaded with POST /upload/image just before the job is submitted, and the inputs set to the
 * names the server stored them under.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Client } from '../client/client.ts';
import type { ApiWorkflow } from '../client/types.ts';
import { PyrosError } from '../errors.ts';
import { CliError } from './errors/cli-error.ts';
import { describeInput, nodeTitle } from '../workflow/index.ts';
import { parseSetArg, resolveTargetArg } from './set-args.ts';
import type { Reporter } from './reporters/reporter.ts';
import type { RunPlan } from './run-plan.ts';
import { knownContentType } from '../content-types.ts';

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

export interface UploadedInput extends PendingUpload {
  /** The value the input was set to (`name.png`, `sub/name.png`, `name.png [output]`). */
  value: string;
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


/** Uploads each file and sets its input in the plan's workflow; reports `input a.png → #10 "Load Image".image`. */
export async function uploadInputs(client: Client, plan: RunPlan, uploads: readonly PendingUpload[], reporter: Reporter): Promise<UploadedInput[]> {
  const done: UploadedInput[] = [];
  for (const upload of uploads) {
    let data: Buffer;
    try {
      data = await readFile(upload.path);
    } catch (error) {
      throw new PyrosError('usage', `${upload.option}: cannot read ${upload.path} (${(error as Error).message}).`, { cause: error });
    }
    // LoadImageOutput picks from the output folder, where its names carry an " [output]" annotation.
    const toOutput = upload.classType === 'LoadImageOutput';
    reporter.phase('submitting', { text: `uploading ${upload.path}` });
    const stored = await client.api.uploadImage(
      { name: basename(upload.path), data, contentType: knownContentType(upload.path) },
      { type: toOutput ? 'output' : 'input' },
    );
    const name = stored.subfolder ? `${stored.subfolder}/${stored.name}` : stored.name;
    const value = toOutput ? `${name} [output]` : name;
    const node = plan.patched.workflow[upload.nodeId];
    if (node) node.inputs[upload.input] = value;
    reporter.note(`input ${upload.path} → #${upload.nodeId} "${upload.title}".${upload.input} (uploaded as ${name})`, {
      kind: 'input',
      path: upload.path,
      node_id: upload.nodeId,
      input: upload.input,
      uploaded_as: name,
      value,
    });
    done.push({ ...upload, value });
  }
  if (done.length > 0) {
    plan.metadata = { ...plan.metadata, inputs: done.map((u) => ({ path: resolve(u.path), node_id: u.nodeId, input: u.input, value: u.value })) };
  }
  return done;
}

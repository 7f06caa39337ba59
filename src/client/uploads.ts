/**
 * Files a job needs on the server (images for LoadImage and the like): uploaded with
 * POST /upload/image just before the job is submitted, once per server and file version, and the
 * input set to the name the server stored the file under.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { knownContentType } from '../content-types.ts';
import { PyrosError } from '../errors.ts';
import type { ComfyApi } from './api.ts';

export interface InputUpload {
  /** The node whose input takes the uploaded file's name. */
  nodeId: string;
  input: string;
  /** Local path of the file. */
  path: string;
  /** `output` for loaders that pick from the output folder (LoadImageOutput); default `input`. */
  folder?: 'input' | 'output';
}

export interface UploadedInput extends InputUpload {
  /** The name the server stored it under (`subfolder/name.png` when it uses a subfolder). */
  name: string;
  /** The value the input was set to (`name.png`, or `name.png [output]`). */
  value: string;
  /** True when an earlier job already uploaded this version of the file to this server. */
  reused: boolean;
}

/** The uploads of one server: a file changed on disk (size or time) is uploaded again. */
export class UploadCache {
  private readonly api: ComfyApi;
  private readonly done = new Map<string, Promise<{ name: string; value: string }>>();

  constructor(api: ComfyApi) {
    this.api = api;
  }

  async upload(upload: InputUpload): Promise<UploadedInput> {
    const path = resolve(upload.path);
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw unreadable(upload.path, error);
    });
    const folder = upload.folder ?? 'input';
    const key = `${path}|${info.size}|${info.mtimeMs}|${folder}`;
    const known = this.done.get(key);
    if (known) return { ...upload, ...(await known), reused: true };
    const sending = this.send(path, upload.path, folder);
    this.done.set(key, sending);
    sending.catch(() => this.done.delete(key));
    return { ...upload, ...(await sending), reused: false };
  }

  private async send(path: string, shown: string, folder: 'input' | 'output'): Promise<{ name: string; value: string }> {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (error) {
      throw unreadable(shown, error as NodeJS.ErrnoException);
    }
    const stored = await this.api.uploadImage({ name: basename(path), data, contentType: knownContentType(path) }, { type: folder });
    const name = stored.subfolder ? `${stored.subfolder}/${stored.name}` : stored.name;
    // LoadImageOutput lists the output folder's files with an " [output]" annotation.
    return { name, value: folder === 'output' ? `${name} [output]` : name };
  }
}

function unreadable(path: string, error: NodeJS.ErrnoException): PyrosError {
  const reason = error.code === 'ENOENT' || error.code === 'ENOTDIR' ? 'no such file' : error.code === 'EACCES' ? 'permission denied' : error.message;
  return new PyrosError('usage', `Cannot read ${path} to upload it (${reason}).`, { reason: 'upload-unreadable', fields: { path, code: error.code }, cause: error });
}

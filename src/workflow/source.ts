/**
 * One entry point for every kind of workflow file, recognised by its content (never its name):
 * API-format JSON (also a POST /prompt body or a history entry), editor-format JSON, the .json
 * sidecar pyros writes beside each output, and the images, videos and audio files ComfyUI saves
 * with the workflow embedded. Editor workflows are returned as they are, not converted.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ApiWorkflow } from './types.ts';
import { PyrosError } from '../errors.ts';
import { parseJsonSource } from './json-source.ts';
import { bufferSource, fileSource, type ByteSource } from './media/bytes.ts';

export type { ByteSource } from './media/bytes.ts';

/** How many bytes of the start of a file decide what it is (as `detectMedia` needs). */
const HEAD_BYTES = 64;

export type WorkflowOrigin = 'api-json' | 'editor-json' | 'sidecar' | 'png' | 'webp' | 'video' | 'audio';

/** An editor-format workflow (what ComfyUI's Save writes): nodes with widget values, and links. */
export type EditorWorkflow = Record<string, unknown> & { nodes: unknown[] };

export interface WorkflowSource {
  origin: WorkflowOrigin;
  /** What the file is, for messages: `JSON`, `PNG`, `animated PNG`, `WebP`, `MP4`, `WebM`, `FLAC`, `Ogg Opus`, `MP3`, … */
  format: string;
  /** The API-format prompt (what POST /prompt takes), when the source has one. */
  api?: ApiWorkflow;
  /** The editor-format workflow, when the source has one. */
  editor?: EditorWorkflow;
}

/** JSON workflows are kilobytes to a few megabytes; a larger text file is not one. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** A `{` or `[` first, after an optional byte order mark and white space: no image, video or audio file starts so. */
function startsLikeJson(head: Buffer): boolean {
  let at = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (at < head.length && (head[at] === 0x20 || head[at] === 0x09 || head[at] === 0x0a || head[at] === 0x0d)) at += 1;
  return head[at] === 0x7b || head[at] === 0x5b;
}

function looksBinary(head: Buffer): boolean {
  if (head.includes(0)) return true;
  try {
    // A multi-byte character may be cut at the end of the head: decode all but the last 3 bytes strictly.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 3)));
    return false;
  } catch {
    return true;
  }
}

/** Reads the workflow held by any byte source (a file, a buffer, or ranges fetched from elsewhere). */
export async function readWorkflowSourceFrom(source: ByteSource): Promise<WorkflowSource> {
  const head = await source.read(0, HEAD_BYTES);
  // JSON is the usual case: the readers of images, video and audio are loaded only for other files.
  if (!startsLikeJson(head)) {
    const { detectMedia, workflowFromMedia } = await import('./media/index.ts');
    const media = detectMedia(head);
    if (media) return workflowFromMedia(await media(source), source.name);
  }
  if (looksBinary(head)) {
    throw new PyrosError('usage', `${source.name} is not a workflow: it is neither JSON nor an image, video or audio file that ComfyUI saves.`, {
      reason: 'workflow-unknown-format',
      fields: { file: source.name },
    });
  }
  if (source.size > MAX_JSON_BYTES) {
    throw new PyrosError('usage', `${source.name} is too large to be a workflow (${source.size} bytes of text).`, { reason: 'workflow-too-large', fields: { file: source.name, bytes: source.size, limit: MAX_JSON_BYTES } });
  }
  return parseJsonSource((await source.read(0, source.size)).toString('utf8'), source.name);
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

/** Reads the workflow a file holds, whatever kind of file it is; only the parts needed are read. */
export async function readWorkflowSource(path: string): Promise<WorkflowSource> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new PyrosError('usage', `${path} is a directory, not a workflow file.`, { reason: 'workflow-is-directory', fields: { path } });
    }
    // A pipe or device has no size to seek in: read it whole.
    if (!info.isFile()) return await workflowSourceFromBytes(await readFile(path), path);
    handle = await open(path, 'r');
    return await readWorkflowSourceFrom(fileSource(handle, info.size, path));
  } catch (error) {
    if (error instanceof PyrosError) throw error;
    throw readError(path, error);
  } finally {
    await handle?.close();
  }
}

/** The same for bytes already in memory (a pipe, an upload); `name` names them in messages. */
export function workflowSourceFromBytes(bytes: Buffer, name: string): Promise<WorkflowSource> {
  return readWorkflowSourceFrom(bufferSource(bytes, name));
}

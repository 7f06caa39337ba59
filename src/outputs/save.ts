/**
 * Saving a prompt's outputs: each streamed from /view into a temporary file, then given a safe,
 * unused name in the output folder, with the prompt text (.txt) and the metadata (.json) beside it.
 */
import { open, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ComfyApi } from '../client/api.ts';
import type { ImageMime } from '../client/binary.ts';
import type { NodeRef, OutputRef } from '../client/types.ts';
import { PyrosError, sameCaseArgs } from '../errors.ts';
import { claimName, discardTemp, ensureDir, isFileSystemError, outputError, pathExists, streamToTemp, writeTemp } from './atomic.ts';
import { safeFileName, splitExtension } from './safe-name.ts';

export interface SaveContext {
  dir: string;
  /** The prompt text as submitted, written to the .txt sidecar (skipped when undefined). */
  promptText?: string;
  /** Written to every .json sidecar, merged with what describes the file itself. */
  metadata: Record<string, unknown>;
  /** Milliseconds without a byte before a download fails. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Told (and awaited) before a downloaded file takes its final name, and once it is saved with its sidecars. */
  journal?: SaveJournal;
}

/** Where a run records its saves, so that a run resumed after a kill saves each output once. */
export interface SaveJournal {
  /** `temp` (a name in the folder) is about to be linked to `name`. */
  placing(info: { output: string; temp: string; name: string }): Promise<void>;
  /** The output is saved under `file` with its sidecars. */
  placed(info: { output: string; file: SavedFile }): Promise<void>;
}

export interface SavedFile {
  path: string;
  bytes: number;
  /** The first bytes of the file (image dimensions can be read from them). */
  head: Buffer;
  nodeId: string;
  /** Name on the server, for messages. */
  serverName: string;
  sidecars: string[];
}

const MAX_NAME_ATTEMPTS = 10_000;
const HEAD_BYTES = 64;

/** What names an output among a prompt's outputs: its folder type, subfolder and file name on the server. */
export function outputKey(ref: OutputRef): string {
  return `${ref.item.type ?? 'output'}/${ref.item.subfolder ?? ''}/${ref.item.filename}`;
}

function sidecarNames(stem: string, ext: string): { text: string; meta: string } {
  return ext === '.txt' || ext === '.json' ? { text: `${stem}${ext}.prompt.txt`, meta: `${stem}${ext}.meta.json` } : { text: `${stem}.txt`, meta: `${stem}.json` };
}

interface TempFile {
  path: string;
  bytes: number;
  head: Buffer;
}

interface Described {
  /** The output's key (see outputKey). */
  output: string;
  serverName: string;
  nodeId: string;
  describe: Record<string, unknown>;
}

/** Final names that a save of this process is about to take (outputs of several servers often share names). */
const namesBeingTaken = new Set<string>();

/** Moves a finished temporary file to the first free name and writes its sidecars. */
async function place(temp: TempFile, what: Described, ctx: SaveContext): Promise<SavedFile> {
  const { stem, ext } = splitExtension(safeFileName(what.serverName));
  for (let n = 0; n < MAX_NAME_ATTEMPTS; n++) {
    const candidateStem = n === 0 ? stem : `${stem}-${n}`;
    const name = `${candidateStem}${ext}`;
    const finalPath = join(ctx.dir, name);
    const sidecars = sidecarNames(candidateStem, ext);
    // A name in use, or about to be taken by another save here, is passed over before the journal
    // is told (each `placing` is synced to the disk); the link below still settles any race.
    if (namesBeingTaken.has(finalPath) || (await pathExists(finalPath)) || (await pathExists(join(ctx.dir, sidecars.text))) || (await pathExists(join(ctx.dir, sidecars.meta)))) continue;
    namesBeingTaken.add(finalPath);
    let claimed: boolean;
    try {
      await ctx.journal?.placing({ output: what.output, temp: basename(temp.path), name });
      claimed = await claimName(temp.path, finalPath);
    } finally {
      namesBeingTaken.delete(finalPath);
    }
    if (claimed) return finishPlacing(temp, name, what, ctx, false);
  }
  await discardTemp(temp.path);
  throw outputError(new Error(`no free name for ${stem}${ext}`), ctx.dir, what.serverName);
}

/** The file holds its final name: writes the sidecars it lacks, then records it as saved. */
async function finishPlacing(temp: TempFile, name: string, what: Described, ctx: SaveContext, resumed: boolean): Promise<SavedFile> {
  const { stem, ext } = splitExtension(name);
  const sidecars = sidecarNames(stem, ext);
  const written: string[] = [];
  const meta = { ...ctx.metadata, ...what.describe, node_id: what.nodeId, file: name, bytes: temp.bytes, saved_at: new Date().toISOString() };
  const files: [string, string][] = [[sidecars.meta, `${JSON.stringify(meta, null, 2)}\n`]];
  if (ctx.promptText !== undefined) files.unshift([sidecars.text, `${ctx.promptText}\n`]);
  for (const [sidecar, content] of files) {
    const path = join(ctx.dir, sidecar);
    // Written before the kill that came between this file and the journal's record of it.
    if (resumed && (await pathExists(path))) {
      written.push(path);
      continue;
    }
    const tempSidecar = await writeTemp(ctx.dir, content);
    if (await claimName(tempSidecar, path)) written.push(path);
    else await discardTemp(tempSidecar);
  }
  const file: SavedFile = { path: join(ctx.dir, name), bytes: temp.bytes, head: temp.head, nodeId: what.nodeId, serverName: what.serverName, sidecars: written };
  await ctx.journal?.placed({ output: what.output, file });
  return file;
}

/**
 * Finishes saving an output whose saving a killed process had begun (the journal recorded that
 * `temp` was about to be linked to `name`): when `name` is that file, only its missing sidecars
 * are written; when the complete download is still in `temp`, it is placed. Returns undefined
 * when neither is there (the output is downloaded again).
 */
export async function resumePlacing(ref: OutputRef, placing: { temp: string; name: string }, ctx: SaveContext): Promise<SavedFile | undefined> {
  const finalPath = join(ctx.dir, basename(placing.name));
  const tempPath = join(ctx.dir, basename(placing.temp));
  const [final, temp] = await Promise.all([stat(finalPath).catch(() => undefined), stat(tempPath).catch(() => undefined)]);
  const what = describedOutput(ref);
  try {
    if (final && (!temp || (temp.ino === final.ino && temp.dev === final.dev))) {
      if (temp) await unlink(tempPath);
      return await finishPlacing({ path: finalPath, bytes: final.size, head: await headOf(finalPath) }, basename(placing.name), what, ctx, true);
    }
    if (temp) return await place({ path: tempPath, bytes: temp.size, head: await headOf(tempPath) }, what, ctx);
  } catch (error) {
    throw outputError(error, ctx.dir, basename(ref.item.filename));
  }
  return undefined;
}

async function headOf(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function describedOutput(ref: OutputRef): Described {
  return { output: outputKey(ref), serverName: ref.item.filename, nodeId: ref.nodeId, describe: { output: { ...ref.item, key: ref.key } } };
}

/** Downloads one output and saves it; never leaves a partial file behind. */
export async function saveOutput(api: ComfyApi, ref: OutputRef, ctx: SaveContext): Promise<SavedFile> {
  await ensureDir(ctx.dir);
  const response = await api.view(ref.item, { signal: ctx.signal, idleTimeoutMs: ctx.idleTimeoutMs });
  const declared = Number(response.headers['content-length']);
  let temp: Awaited<ReturnType<typeof streamToTemp>>;
  try {
    temp = await streamToTemp(response, ctx.dir, Number.isFinite(declared) && declared >= 0 ? declared : undefined);
  } catch (error) {
    if (isFileSystemError(error)) throw outputError(error, ctx.dir, basename(ref.item.filename));
    const translated = api.transport.translate(error as Error, { method: 'GET', route: 'view' });
    if (!(translated instanceof PyrosError)) throw translated;
    throw new PyrosError(
      ...sameCaseArgs(translated, `Downloading "${ref.item.filename}" failed: ${translated.message}`, {
        fields: { ...translated.fields, file: ref.item.filename },
        cause: translated.cause ?? translated,
      }),
    );
  }
  try {
    return await place(temp, describedOutput(ref), ctx);
  } catch (error) {
    await discardTemp(temp.path);
    throw outputError(error, ctx.dir, basename(ref.item.filename));
  }
}

const EXTENSIONS: Record<ImageMime, string> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/webp': '.webp' };

/** Saves an image that arrived over the socket (SaveImageWebsocket): it has no server name. */
export async function saveSocketImage(image: { node: NodeRef; mime: ImageMime; image: Buffer }, index: number, prefix: string, ctx: SaveContext): Promise<SavedFile> {
  await ensureDir(ctx.dir);
  const name = `${prefix}_${String(index + 1).padStart(5, '0')}_${EXTENSIONS[image.mime]}`;
  let temp: Awaited<ReturnType<typeof streamToTemp>>;
  try {
    temp = await streamToTemp(Readable.from([image.image]), ctx.dir, image.image.length);
  } catch (error) {
    throw outputError(error, ctx.dir, name);
  }
  try {
    return await place(temp, { output: `websocket/${index}`, serverName: name, nodeId: image.node.nodeId, describe: { output: { websocket: true, mime: image.mime } } }, ctx);
  } catch (error) {
    await discardTemp(temp.path);
    throw outputError(error, ctx.dir, name);
  }
}

/**
 * Saving a prompt's outputs: each streamed from /view into a temporary file, then given a safe,
 * unused name in the output folder, with the prompt text (.txt) and the metadata (.json) beside it.
 */
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

function sidecarNames(stem: string, ext: string): { text: string; meta: string } {
  return ext === '.txt' || ext === '.json' ? { text: `${stem}${ext}.prompt.txt`, meta: `${stem}${ext}.meta.json` } : { text: `${stem}.txt`, meta: `${stem}.json` };
}

/** Moves a finished temporary file to the first free name and writes its sidecars. */
async function place(temp: { path: string; bytes: number; head: Buffer }, serverName: string, nodeId: string, describe: Record<string, unknown>, ctx: SaveContext): Promise<SavedFile> {
  const { stem, ext } = splitExtension(safeFileName(serverName));
  for (let n = 0; n < MAX_NAME_ATTEMPTS; n++) {
    const candidateStem = n === 0 ? stem : `${stem}-${n}`;
    const name = `${candidateStem}${ext}`;
    const sidecars = sidecarNames(candidateStem, ext);
    if ((await pathExists(join(ctx.dir, sidecars.text))) || (await pathExists(join(ctx.dir, sidecars.meta)))) continue;
    const finalPath = join(ctx.dir, name);
    if (!(await claimName(temp.path, finalPath))) continue;
    const written: string[] = [];
    const meta = { ...ctx.metadata, ...describe, node_id: nodeId, file: name, bytes: temp.bytes, saved_at: new Date().toISOString() };
    const files: [string, string][] = [[sidecars.meta, `${JSON.stringify(meta, null, 2)}\n`]];
    if (ctx.promptText !== undefined) files.unshift([sidecars.text, `${ctx.promptText}\n`]);
    for (const [sidecar, content] of files) {
      const temp = await writeTemp(ctx.dir, content);
      if (await claimName(temp, join(ctx.dir, sidecar))) written.push(join(ctx.dir, sidecar));
      else await discardTemp(temp);
    }
    return { path: finalPath, bytes: temp.bytes, head: temp.head, nodeId, serverName, sidecars: written };
  }
  await discardTemp(temp.path);
  throw outputError(new Error(`no free name for ${stem}${ext}`), ctx.dir, serverName);
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
    return await place(temp, ref.item.filename, ref.nodeId, { output: { ...ref.item, key: ref.key } }, ctx);
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
    return await place(temp, name, image.node.nodeId, { output: { websocket: true, mime: image.mime } }, ctx);
  } catch (error) {
    await discardTemp(temp.path);
    throw outputError(error, ctx.dir, name);
  }
}

/**
 * POST /upload/image: multipart field `image`, optional `subfolder`, `type` and `overwrite`.
 * Without overwrite, a name already taken by different bytes becomes "name (1).png"; the same
 * bytes reuse the existing file (ComfyUI's duplicate check).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { MAX_BODY_BYTES, type SimContext } from '../context.ts';
import { boundaryOf, parseMultipart, type FormPart } from '../http/multipart.ts';
import { readBody, sendEmpty, sendInternalError, sendJson } from '../http/responses.ts';
import type { Router } from '../http/router.ts';
import { isInside } from '../storage.ts';

/** Python's os.path.splitext. */
function splitExtension(filename: string): [string, string] {
  const base = filename.slice(filename.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return [filename, ''];
  const cut = filename.length - (base.length - dot);
  return [filename.slice(0, cut), filename.slice(cut)];
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function uploadRoutes(router: Router, context: SimContext): void {
  const { storage, log } = context;

  router.post('/upload/image', async ({ req, res }) => {
    const body = await readBody(req, MAX_BODY_BYTES);
    const boundary = boundaryOf(req.headers['content-type']);
    if (!boundary) {
      sendEmpty(res, 400);
      return;
    }
    let parts: FormPart[];
    try {
      parts = parseMultipart(body, boundary);
    } catch (error) {
      log(`upload: ${error instanceof Error ? error.message : String(error)}`);
      sendInternalError(res);
      return;
    }
    const field = (name: string): string | undefined => {
      const part = parts.find((candidate) => candidate.name === name && candidate.filename === undefined);
      return part?.data.toString('utf8');
    };
    const image = parts.find((part) => part.name === 'image' && part.filename !== undefined);
    const type = field('type') ?? 'input';
    const uploadDir = type === 'input' || type === 'temp' || type === 'output' ? storage.dirs[type] : undefined;
    if (!uploadDir) {
      // ComfyUI fails with an UnboundLocalError for an unknown type.
      sendInternalError(res);
      return;
    }
    if (!image?.filename) {
      sendEmpty(res, 400);
      return;
    }
    const subfolder = field('subfolder') ?? '';
    const folder = resolve(uploadDir, posix.normalize(subfolder || '.'));
    let filename = image.filename;
    let path = resolve(folder, filename);
    if (!isInside(uploadDir, path)) {
      sendEmpty(res, 400);
      return;
    }
    await mkdir(folder, { recursive: true });

    const overwrite = field('overwrite');
    let duplicate = false;
    if (overwrite !== 'true' && overwrite !== '1') {
      const [stem, extension] = splitExtension(image.filename);
      const digest = sha256(image.data);
      for (let i = 1; ; i++) {
        const existing = await readFile(path).catch(() => undefined);
        if (existing === undefined) break;
        if (sha256(existing) === digest) {
          duplicate = true;
          break;
        }
        filename = `${stem} (${i})${extension}`;
        path = join(folder, filename);
      }
    }
    if (!duplicate) await writeFile(path, image.data);
    sendJson(res, 200, { name: filename, subfolder, type });
  });
}

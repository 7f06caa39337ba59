/**
 * GET /view: streams a file of output/, temp/ or input/ with the real server's checks: a
 * filename with ".." or a leading "/" or an unknown type → 400, a subfolder that leaves the
 * directory → 403, a missing file → 404 (all with empty bodies).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SimContext } from '../context.ts';
import { sendEmpty } from '../http/responses.ts';
import type { Router } from '../http/router.ts';
import { isInside, type FileType } from '../storage.ts';
import { knownContentType } from '../../content-types.ts';

/** Served as downloads, never rendered by a browser. */
const FORCED_DOWNLOAD = new Set(['text/html', 'application/xhtml+xml', 'text/javascript', 'text/css']);
/** Smaller files are read in one go: much cheaper than a stream per request. */
const READ_WHOLE_BYTES = 1 << 20;
/** Where Python's mimetypes (which ComfyUI uses) answers differently from the shared table. */
const PYTHON_TYPES: Record<string, string> = { '.txt': 'text/plain', '.json': 'application/json', '.wav': 'audio/x-wav' };
const EXTRA_TYPES: Record<string, string> = { '.html': 'text/html', '.htm': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

function contentTypeOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  const extension = dot >= 0 ? filename.slice(dot).toLowerCase() : '';
  const type = PYTHON_TYPES[extension] ?? knownContentType(filename) ?? EXTRA_TYPES[extension] ?? 'application/octet-stream';
  return FORCED_DOWNLOAD.has(type) ? 'application/octet-stream' : type;
}

/** "name.png [output]" names a file of another directory than `type` says. */
function annotated(filename: string): { name: string; type?: FileType } {
  for (const type of ['output', 'input', 'temp'] as const) {
    const suffix = ` [${type}]`;
    if (filename.endsWith(suffix)) return { name: filename.slice(0, -suffix.length), type };
  }
  return { name: filename };
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(size - 1, Number(match[2]));
  }
  return start > end || start >= size ? 'invalid' : { start, end };
}

export function viewRoutes(router: Router, context: SimContext): void {
  const { storage, hooks } = context;

  router.get('/view', async ({ req, res, query }) => {
    const requested = query.get('filename');
    if (requested === null) {
      sendEmpty(res, 404);
      return;
    }
    const { name, type: annotatedType } = annotated(requested);
    if (!name) {
      sendEmpty(res, 400);
      return;
    }
    if (name.startsWith('/') || name.includes('..')) {
      sendEmpty(res, 400);
      return;
    }
    let directory = storage.dirFor(annotatedType ?? query.get('type') ?? 'output');
    if (directory === undefined) {
      sendEmpty(res, 400);
      return;
    }
    const subfolder = query.get('subfolder');
    if (subfolder !== null) {
      const full = resolve(directory, subfolder);
      if (!isInside(directory, full)) {
        sendEmpty(res, 403);
        return;
      }
      directory = full;
    }
    const filename = posix.basename(name);
    const path = join(directory, filename);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      sendEmpty(res, 404);
      return;
    }

    const range = parseRange(req.headers.range, info.size);
    if (range === 'invalid') {
      res.writeHead(416, { 'Content-Range': `bytes */${info.size}`, 'Content-Length': 0 });
      res.end();
      return;
    }
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeOf(filename),
      // aiohttp writes header values as UTF-8; Node writes strings as Latin-1 bytes.
      'Content-Disposition': Buffer.from(`filename="${filename}"`, 'utf8').toString('latin1'),
      'Last-Modified': info.mtime.toUTCString(),
      'Accept-Ranges': 'bytes',
      'Content-Length': range ? range.end - range.start + 1 : info.size,
    };
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${info.size}`;

    const replacement = hooks.onViewFile?.({ path, size: info.size, req, res });
    if (!res.headersSent && !res.writableEnded) res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!replacement && !range && info.size <= READ_WHOLE_BYTES) {
      const bytes = await readFile(path).catch(() => undefined);
      if (bytes && bytes.length === info.size) {
        res.end(bytes);
        return;
      }
    }
    const source = replacement ?? createReadStream(path, range ? { start: range.start, end: range.end } : {});
    await pipeline(source, res).catch(() => {
      // The client went away, or the file vanished mid-stream: nothing left to answer.
      res.destroy();
    });
  });
}

/** GET/POST /queue, POST /interrupt and POST /free. */
import { MAX_BODY_BYTES, type SimContext } from '../context.ts';
import { readBody, sendEmpty, sendInternalError, sendJson } from '../http/responses.ts';
import type { Router } from '../http/router.ts';
import { publicItem } from '../queue.ts';

async function readJson(req: Parameters<typeof readBody>[0]): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const text = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function queueRoutes(router: Router, context: SimContext): void {
  const { queue, interrupt, log } = context;

  router.get('/queue', ({ res }) => {
    const { running, pending } = queue.snapshot();
    sendJson(res, 200, { queue_running: running.map(publicItem), queue_pending: pending.map(publicItem) });
  });

  router.post('/queue', async ({ req, res }) => {
    const body = await readJson(req);
    const data = body.ok ? asRecord(body.value) : undefined;
    if (!data) {
      sendInternalError(res);
      return;
    }
    if ('clear' in data && data.clear) queue.clear();
    if ('delete' in data && Array.isArray(data.delete)) {
      for (const promptId of data.delete) if (typeof promptId === 'string') queue.delete(promptId);
    }
    sendEmpty(res, 200);
  });

  router.post('/interrupt', async ({ req, res }) => {
    const body = await readJson(req);
    const data = body.ok ? (asRecord(body.value) ?? {}) : {};
    const promptId = data.prompt_id;
    if (promptId) {
      if (queue.running?.promptId === promptId) {
        log(`Interrupting prompt ${String(promptId)}`);
        interrupt.raise();
      } else {
        log(`Prompt ${String(promptId)} is not currently running, skipping interrupt`);
      }
    } else {
      log('Global interrupt (no prompt_id specified)');
      interrupt.raise();
    }
    sendEmpty(res, 200);
  });

  router.post('/free', async ({ req, res }) => {
    await readBody(req, MAX_BODY_BYTES);
    sendEmpty(res, 200);
  });
}

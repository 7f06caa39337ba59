/** GET /history, GET /history/{prompt_id}, POST /history (delete / clear). */
import { MAX_BODY_BYTES, type SimContext } from '../context.ts';
import { readBody, sendEmpty, sendInternalError, sendJson } from '../http/responses.ts';
import type { Router } from '../http/router.ts';
import { pyInt } from '../python.ts';

export function historyRoutes(router: Router, context: SimContext): void {
  const { history } = context;

  router.get('/history', ({ res, query }) => {
    let maxItems: number | undefined;
    let offset: number | undefined;
    try {
      const max = query.get('max_items');
      const start = query.get('offset');
      maxItems = max === null ? undefined : pyInt(max);
      offset = start === null ? undefined : pyInt(start);
    } catch {
      sendInternalError(res);
      return;
    }
    sendJson(res, 200, history.list(maxItems, offset));
  });

  router.get('/history/{prompt_id}', ({ res, param }) => {
    sendJson(res, 200, history.one(param));
  });

  router.post('/history', async ({ req, res }) => {
    let data: unknown;
    try {
      data = JSON.parse((await readBody(req, MAX_BODY_BYTES)).toString('utf8'));
    } catch {
      sendInternalError(res);
      return;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      sendInternalError(res);
      return;
    }
    const request = data as Record<string, unknown>;
    if ('clear' in request && request.clear) history.clear();
    if ('delete' in request && Array.isArray(request.delete)) {
      for (const promptId of request.delete) if (typeof promptId === 'string') history.delete(promptId);
    }
    sendEmpty(res, 200);
  });
}

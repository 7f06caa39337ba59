/** POST /prompt (validate and queue) and GET /prompt (queue size). */
import { randomUUID } from 'node:crypto';
import { MAX_BODY_BYTES, type SimContext } from '../context.ts';
import { readBody, sendInternalError, sendJson } from '../http/responses.ts';
import type { Router } from '../http/router.ts';
import type { Prompt } from '../prompt.ts';
import { mayBeReordered, memberKeyOrder, setKeyOrder } from '../prompt-order.ts';
import { pyBool, pyFloat, pyStr } from '../python.ts';
import { validatePrompt } from '../validate.ts';

/** Extra data the real server keeps out of /queue and /history. */
const SENSITIVE_EXTRA_DATA_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejection(type: string, message: string, details: string): { error: Record<string, unknown>; node_errors: Record<string, never> } {
  return { error: { type, message, details, extra_info: {} }, node_errors: {} };
}

export function promptRoutes(router: Router, context: SimContext): void {
  const { queue, catalogue, env, log } = context;

  router.get('/prompt', ({ res }) => {
    sendJson(res, 200, { exec_info: { queue_remaining: queue.remaining } });
  });

  router.post('/prompt', async ({ req, res }) => {
    log('got prompt');
    const text = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendInternalError(res);
      return;
    }
    // Python's `"number" in json_data` fails on anything but a container.
    if (body === null || (typeof body !== 'object' && typeof body !== 'string')) {
      sendInternalError(res);
      return;
    }
    const data: Record<string, unknown> = isPlainObject(body) ? body : {};

    let number: number;
    try {
      number = 'number' in data ? pyFloat(data.number) : queue.nextNumber(pyBool(data.front));
    } catch {
      sendInternalError(res);
      return;
    }
    if (!('prompt' in data)) {
      sendJson(res, 400, rejection('no_prompt', 'No prompt provided', 'No prompt provided'));
      return;
    }

    const prompt = data.prompt;
    if (!isPlainObject(prompt)) {
      const empty = (Array.isArray(prompt) && prompt.length === 0) || prompt === '';
      if (empty) sendJson(res, 400, rejection('prompt_no_outputs', 'Prompt has no outputs', ''));
      else sendInternalError(res);
      return;
    }
    if (mayBeReordered(prompt)) {
      const order = memberKeyOrder(text, 'prompt');
      if (order) setKeyOrder(prompt, order);
    }
    const promptId = 'prompt_id' in data && data.prompt_id !== undefined ? pyStr(data.prompt_id) : randomUUID();

    const result = await validatePrompt(prompt, catalogue, env, data.partial_execution_targets);
    if (!result.ok) {
      log(`invalid prompt: ${result.error.message}`);
      sendJson(res, 400, { error: result.error, node_errors: result.nodeErrors });
      return;
    }

    const extraData: Record<string, unknown> = isPlainObject(data.extra_data) ? { ...data.extra_data } : {};
    if ('client_id' in data) extraData.client_id = data.client_id;
    const sensitive: Record<string, unknown> = {};
    for (const key of SENSITIVE_EXTRA_DATA_KEYS) {
      if (key in extraData) {
        sensitive[key] = extraData[key];
        delete extraData[key];
      }
    }
    queue.put({ number, promptId, prompt: prompt as Prompt, extraData, outputs: result.outputs, sensitive });
    sendJson(res, 200, { prompt_id: promptId, number, node_errors: result.nodeErrors });
  });
}

/** Read-only server information: /system_stats, /features, /object_info, /models, /embeddings. */
import { freemem, totalmem } from 'node:os';
import type { SimContext } from '../context.ts';
import { sendEmpty, sendJson, sendText } from '../http/responses.ts';
import type { Router } from '../http/router.ts';
import { MODEL_FOLDERS } from '../models.ts';
import { SERVER_FEATURES } from '../socket-hub.ts';

/** The ComfyUI release whose protocol this simulator reproduces (test/fixtures/traffic). */
export const COMFYUI_VERSION = '0.3.64';

function systemStats(context: SimContext): unknown {
  const total = totalmem();
  const free = freemem();
  const argv = ['main.py', '--cpu', '--preview-method', context.settings.previews ? 'latent2rgb' : 'none'];
  return {
    system: {
      os: process.platform === 'win32' ? 'nt' : 'posix',
      ram_total: total,
      ram_free: free,
      comfyui_version: COMFYUI_VERSION,
      required_frontend_version: '1.27.10',
      installed_templates_version: '0.1.95',
      required_templates_version: '0.1.95',
      python_version: `pyros simulator on Node.js ${process.versions.node}`,
      pytorch_version: 'none (simulated)',
      embedded_python: false,
      argv,
    },
    devices: [
      {
        name: 'cpu (pyros simulator)',
        type: 'cpu',
        index: null,
        vram_total: total,
        vram_free: free,
        torch_vram_total: total,
        torch_vram_free: free,
      },
    ],
  };
}

const INDEX_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>pyros simulator</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>pyros simulator</h1>
<p>A ComfyUI-compatible server without a GPU: it speaks ComfyUI's HTTP and WebSocket API
(<code>/prompt</code>, <code>/ws</code>, <code>/history</code>, <code>/view</code>, <code>/object_info</code> …)
and paints procedural pictures instead of running models. There is no graph editor here.</p>
</body></html>
`;

export function infoRoutes(router: Router, context: SimContext): void {
  const { catalogue } = context;

  router.get('/', ({ res }) => sendText(res, 200, INDEX_PAGE, 'text/html; charset=utf-8'));
  router.get('/system_stats', ({ res }) => sendJson(res, 200, systemStats(context)));
  router.get('/features', ({ res }) => sendJson(res, 200, SERVER_FEATURES));
  router.get('/embeddings', ({ res }) => sendJson(res, 200, []));
  router.get('/extensions', ({ res }) => sendJson(res, 200, []));
  router.get('/models', ({ res }) => sendJson(res, 200, Object.keys(MODEL_FOLDERS)));
  router.get('/models/{folder}', ({ res, param }) => {
    const files = Object.hasOwn(MODEL_FOLDERS, param) ? MODEL_FOLDERS[param] : undefined;
    if (files === undefined) sendEmpty(res, 404);
    else sendJson(res, 200, files);
  });
  router.get('/object_info', async ({ res }) => sendJson(res, 200, await catalogue.objectInfo()));
  router.get('/object_info/{node_class}', async ({ res, param }) => sendJson(res, 200, await catalogue.objectInfo(param)));
  // A plain GET of the socket path (no upgrade), as aiohttp refuses it.
  router.get('/ws', ({ res }) => sendText(res, 400, 'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".'));
}

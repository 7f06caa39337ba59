// The floor: the least a client can do. WebSocket open before the POST, wait for the end of the
// run, read /history, stream every output from /view to a file. `ws` and node:http only.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import WebSocket from 'ws';

export async function connect(server) {
  const base = new URL(server);
  const agent = new http.Agent({ keepAlive: true });
  const clientId = randomUUID();
  const ws = new WebSocket(`ws://${base.host}/ws?clientId=${clientId}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waiting = new Map();
  ws.on('message', (data, binary) => {
    if (binary) return;
    const message = JSON.parse(data.toString());
    if (message.type === 'executing' && message.data.node === null) waiting.get(message.data.prompt_id)?.();
  });
  const request = (method, path, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(new URL(path, base), { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, resolve);
      req.on('error', reject);
      req.end(body);
    });
  const json = async (method, path, body) => {
    const res = await request(method, path, body);
    const chunks = [];
    for await (const chunk of res) chunks.push(chunk);
    return JSON.parse(Buffer.concat(chunks).toString());
  };
  return {
    async run(workflow, outDir) {
      const promptId = randomUUID();
      const done = new Promise((resolve) => waiting.set(promptId, resolve));
      await json('POST', '/prompt', JSON.stringify({ prompt: workflow, client_id: clientId, prompt_id: promptId }));
      await done;
      waiting.delete(promptId);
      const history = (await json('GET', `/history/${promptId}`))[promptId];
      const files = [];
      for (const output of Object.values(history.outputs)) {
        for (const image of output.images ?? []) {
          const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
          const path = join(outDir, image.filename);
          await pipeline(await request('GET', `/view?${query}`), createWriteStream(path));
          files.push(path);
        }
      }
      return files;
    },
    close() {
      ws.close();
      agent.destroy();
    },
  };
}

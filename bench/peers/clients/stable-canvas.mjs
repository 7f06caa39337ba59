// @stable-canvas/comfyui-client: enqueue() returns /view URLs; each fetched and written to a file.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@stable-canvas/comfyui-client';
import WebSocket from 'ws';

export async function connect(server) {
  const client = new Client({ api_host: new URL(server).host, WebSocket, fetch });
  await client.connect();
  return {
    async run(workflow, outDir) {
      const result = await client.enqueue(workflow);
      const files = [];
      for (const image of result.images ?? []) {
        if (image.type !== 'url') continue;
        const response = await fetch(image.data);
        const name = new URL(image.data).searchParams.get('filename') ?? `image-${files.length}.png`;
        const path = join(outDir, name);
        await writeFile(path, Buffer.from(await response.arrayBuffer()));
        files.push(path);
      }
      return files;
    },
    close() {
      client.close();
    },
  };
}

// pyros as a library: Client.run, then every output streamed from /view to a file.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from '../../../dist/lib/index.mjs';

export async function connect(server) {
  const client = new Client({ server });
  await client.connect();
  return {
    async run(workflow, outDir) {
      const result = await client.run(workflow).result;
      const files = [];
      for (const output of result.outputs) {
        const path = join(outDir, output.item.filename);
        await pipeline(await client.api.view(output.item), createWriteStream(path));
        files.push(path);
      }
      return files;
    },
    close() {
      client.close();
    },
  };
}

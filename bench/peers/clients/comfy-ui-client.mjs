// comfy-ui-client: getImages() waits for the end of the run and returns Blobs; saveImages() writes them.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ComfyUIClient } from 'comfy-ui-client';

export async function connect(server) {
  const client = new ComfyUIClient(new URL(server).host, randomUUID());
  await client.connect();
  return {
    async run(workflow, outDir) {
      const images = await client.getImages(workflow);
      await client.saveImages(images, outDir);
      return Object.values(images).flatMap((list) => list.map((entry) => join(outDir, entry.image.filename)));
    },
    close() {
      void client.disconnect();
    },
  };
}

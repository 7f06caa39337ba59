// @saintno/comfyui-sdk: ComfyApi + CallWrapper(PromptBuilder); images fetched as Blobs, then written.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CallWrapper, ComfyApi, PromptBuilder } from '@saintno/comfyui-sdk';

export async function connect(server) {
  const api = new ComfyApi(server);
  await api.init().waitForReady();
  return {
    async run(workflow, outDir) {
      const output = Object.keys(workflow).find((id) => workflow[id].class_type === 'SaveImage');
      const result = await new CallWrapper(api, new PromptBuilder(workflow, [], ['images']).setOutputNode('images', output)).run();
      if (!result) throw new Error('@saintno/comfyui-sdk: the job failed');
      const files = [];
      for (const image of result.images?.images ?? []) {
        const blob = await api.getImage(image);
        const path = join(outDir, image.filename);
        await writeFile(path, Buffer.from(await blob.arrayBuffer()));
        files.push(path);
      }
      return files;
    },
    close() {
      api.destroy();
    },
  };
}

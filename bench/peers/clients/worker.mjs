// A long-lived client for the per-job benchmark: connects once, then runs one job per message
// from the parent and answers with the time from submission to every output on disk.
import { mkdir, rm } from 'node:fs/promises';

const [name, server] = process.argv.slice(2);
const { connect } = await import(`./${name}.mjs`);
const client = await connect(server);
process.send({ ready: true });
process.on('message', async (message) => {
  if (message.close) {
    client.close();
    process.disconnect();
    return;
  }
  try {
    await mkdir(message.outDir, { recursive: true });
    const started = performance.now();
    const files = await client.run(message.workflow, message.outDir);
    const ms = performance.now() - started;
    if (files.length === 0) throw new Error('no output file');
    await rm(message.outDir, { recursive: true, force: true });
    process.send({ id: message.id, ms });
  } catch (error) {
    process.send({ id: message.id, error: String(error?.stack ?? error) });
  }
});

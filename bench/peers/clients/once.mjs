// One job in a fresh process (the whole-process and memory benchmarks): connect, run, save, exit.
import { readFile } from 'node:fs/promises';

const [name, server, workflowFile, outDir] = process.argv.slice(2);
const { connect } = await import(`./${name}.mjs`);
const client = await connect(server);
const files = await client.run(JSON.parse(await readFile(workflowFile, 'utf8')), outDir);
client.close();
if (files.length === 0) {
  process.stderr.write('no output file\n');
  process.exitCode = 1;
}
// Some clients keep timers alive after close(); every script ends the same way.
process.exit();

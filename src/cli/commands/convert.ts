/**
 * `pyros convert WORKFLOW`: the API prompt ComfyUI's editor would queue for a workflow saved in
 * the editor's format (or the prompt an image, video or audio file carries), printed as JSON or
 * written to a file. With --verbose it says what the conversion left out or expanded.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Client } from '../../client/client.ts';
import { formatErrorBlock } from '../../ui/summary.ts';
import { commandContext, createClient, earlySecrets, type CommonFlags } from '../context.ts';
import { CliError } from '../errors/cli-error.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { errorBlock, errorEvent, exitCodeOf } from '../report-error.ts';
import { wantsColor } from '../server-command.ts';
import { loadWorkflowInput, nodeDefinitions } from '../workflow-input.ts';

export interface ConvertFlags extends CommonFlags {
  objectInfo?: string;
  output?: string;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new CliError('output', `Cannot write ${path}: ${(error as Error).message}.`, { hint: 'Choose another file with -o FILE.', cause: error });
  }
}

export async function convertCommand(workflowPath: string, flags: ConvertFlags): Promise<number> {
  const secrets = earlySecrets(flags);
  const clients: Client[] = [];
  try {
    const context = await commandContext(flags, secrets);
    const input = await loadWorkflowInput(workflowPath, () =>
      nodeDefinitions({
        file: flags.objectInfo,
        clients: () => {
          if (clients.length === 0) clients.push(...context.connection.servers.map((server) => createClient(context, server)));
          return clients;
        },
      }),
    );
    const notes = input.converted ? [`converted ${workflowPath} (editor format) into ${Object.keys(input.workflow).length} nodes`] : [`${workflowPath} holds an API prompt (${input.origin}); printed as it is`];
    if (context.verbose) for (const line of [...notes, ...input.notes]) process.stderr.write(`${line}\n`);
    const text = `${JSON.stringify(input.workflow, null, 2)}\n`;
    if (flags.output) await writeAtomically(flags.output, text);
    if (context.json) {
      const report = input.converted?.report;
      process.stdout.write(`${JSON.stringify({ ok: true, origin: input.origin, converted: Boolean(input.converted), output: flags.output, ...(flags.output ? {} : { prompt: input.workflow }), report, notes: input.notes })}\n`);
    } else if (flags.output) {
      process.stderr.write(`wrote ${flags.output}\n`);
    } else {
      process.stdout.write(text);
    }
    return EXIT_CODES.ok;
  } catch (error) {
    if (flags.json) process.stdout.write(`${JSON.stringify({ ok: false, ...errorEvent(error, secrets) })}\n`);
    else process.stderr.write(`${formatErrorBlock(errorBlock(error, { verbose: Boolean(flags.verbose), secrets }), { color: wantsColor(flags, process.stderr) }).join('\n')}\n`);
    return exitCodeOf(error);
  } finally {
    for (const client of clients) client.close();
  }
}

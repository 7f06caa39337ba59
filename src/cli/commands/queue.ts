/** `pyros queue`: what the server is running and what waits, in order, with who queued it. */
import type { QueueEntry } from '../../client/api.ts';
import { paint } from '../../ui/text.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { classOf, shortId, titleOf } from '../prompt-info.ts';
import { withServer } from '../server-command.ts';
import type { CommonFlags } from '../context.ts';
import { cell, formatTable } from '../table.ts';

function entryData(entry: QueueEntry, position: number | undefined): Record<string, unknown> {
  return {
    ...(position === undefined ? {} : { position }),
    number: entry.number,
    prompt_id: entry.promptId,
    client_id: entry.clientId,
    nodes: entry.prompt ? Object.keys(entry.prompt).length : undefined,
    outputs: entry.outputNodes.map((nodeId) => ({ node_id: nodeId, title: titleOf(entry.prompt, nodeId), class_type: classOf(entry.prompt, nodeId) })),
  };
}

export async function queueCommand(flags: CommonFlags): Promise<number> {
  return withServer('queue', flags, async (client, out) => {
    const queue = await client.api.queue();
    const running = [...queue.running].sort((a, b) => a.number - b.number);
    const pending = [...queue.pending].sort((a, b) => a.number - b.number);
    if (out.json) {
      out.document({
        ok: true,
        server: client.endpoint.display,
        running: running.map((entry) => entryData(entry, undefined)),
        pending: pending.map((entry, index) => entryData(entry, index + 1)),
      });
      return EXIT_CODES.ok;
    }
    if (running.length + pending.length === 0) {
      out.lines([`The queue of ${client.endpoint.display} is empty.`]);
      return EXIT_CODES.ok;
    }
    const row = (entry: QueueEntry, where: string): string[] => [
      where,
      String(entry.number),
      entry.promptId,
      entry.clientId ? shortId(entry.clientId) : '-',
      entry.prompt ? String(Object.keys(entry.prompt).length) : '',
      cell(entry.outputNodes.map((nodeId) => titleOf(entry.prompt, nodeId) ?? `#${nodeId}`).join(', ')),
    ];
    const header = ['POSITION', 'NUMBER', 'PROMPT ID', 'CLIENT', 'NODES', 'OUTPUTS'].map((title) => paint('dim', title, out.color));
    const rows = [header, ...running.map((entry) => row(entry, paint('green', 'running', out.color))), ...pending.map((entry, index) => row(entry, String(index + 1)))];
    out.lines([
      `${client.endpoint.display}: ${running.length} running, ${pending.length} pending`,
      ...formatTable(rows, { align: ['left', 'right', 'left', 'left', 'right', 'left'] }),
    ]);
    return EXIT_CODES.ok;
  });
}

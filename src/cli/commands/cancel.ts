/**
 * `pyros cancel ID`: removes that prompt from the queue when it waits, interrupts it when it runs,
 * and never touches another prompt. `pyros interrupt`: stops whatever runs, whoever queued it.
 */
import type { Client } from '../../client/client.ts';
import { CliError } from '../errors/cli-error.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { shortId, summarizeHistory } from '../prompt-info.ts';
import { withServer } from '../server-command.ts';
import type { CommonFlags } from '../context.ts';

async function whereIs(client: Client, promptId: string): Promise<{ state: 'running' } | { state: 'pending'; position: number } | { state: 'absent' }> {
  const queue = await client.api.queue();
  if (queue.running.some((entry) => entry.promptId === promptId)) return { state: 'running' };
  const index = [...queue.pending].sort((a, b) => a.number - b.number).findIndex((entry) => entry.promptId === promptId);
  return index >= 0 ? { state: 'pending', position: index + 1 } : { state: 'absent' };
}

export async function cancelCommand(promptId: string, flags: CommonFlags): Promise<number> {
  return withServer('cancel', flags, async (client, out) => {
    const server = client.endpoint.display;
    const found = await whereIs(client, promptId);
    let action: 'deleted' | 'interrupted';
    let position: number | undefined;
    if (found.state === 'pending') {
      await client.api.deleteFromQueue([promptId]);
      // It may have started between the two requests: then only an interrupt naming it stops it.
      const after = await whereIs(client, promptId);
      if (after.state === 'running') {
        await client.api.interrupt(promptId);
        action = 'interrupted';
      } else {
        action = 'deleted';
        position = found.position;
      }
    } else if (found.state === 'running') {
      await client.api.interrupt(promptId);
      action = 'interrupted';
    } else {
      const history = await client.api.history(promptId);
      const status = history ? summarizeHistory(promptId, history).status : undefined;
      throw new CliError(
        'usage',
        history
          ? `Prompt ${promptId} is not queued on ${server}: it already finished${status && status !== 'unknown' ? ` (${status})` : ''}.`
          : `Prompt ${promptId} is not queued on ${server}, and its history does not know it either.`,
        { hint: history ? `Nothing to cancel; \`pyros history ${promptId}\` shows how it ended.` : 'Check the id with `pyros queue`.' },
      );
    }
    if (out.json) {
      out.document({ ok: true, server, prompt_id: promptId, action, was: action === 'deleted' ? 'pending' : 'running', ...(position === undefined ? {} : { position }) });
    } else {
      out.lines([
        action === 'deleted'
          ? `Removed prompt ${promptId} from the queue of ${server} (it was pending at position ${position}).`
          : `Interrupted prompt ${promptId} on ${server} (it was running).`,
      ]);
    }
    return EXIT_CODES.ok;
  });
}

export async function interruptCommand(flags: CommonFlags): Promise<number> {
  return withServer('interrupt', flags, async (client, out) => {
    const server = client.endpoint.display;
    const queue = await client.api.queue();
    const running = queue.running[0];
    await client.api.interrupt();
    if (out.json) {
      out.document({ ok: true, server, interrupted: running ? { prompt_id: running.promptId, client_id: running.clientId } : null, pending: queue.pending.length });
      return EXIT_CODES.ok;
    }
    const lines = running
      ? [`Interrupted the running prompt ${running.promptId} on ${server}${running.clientId ? ` (queued by client ${shortId(running.clientId)})` : ''}.`]
      : [`Nothing was running on ${server}; the interrupt was sent anyway.`];
    lines.push(
      `pyros interrupt stops whatever is running, whoever queued it; ${queue.pending.length} pending prompt${queue.pending.length === 1 ? '' : 's'} stay${queue.pending.length === 1 ? 's' : ''} queued. To stop one prompt of yours, use pyros cancel ID.`,
    );
    out.lines(lines);
    return EXIT_CODES.ok;
  });
}

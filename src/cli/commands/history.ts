/**
 * `pyros history`: the server's recent prompts with status, duration and outputs;
 * `pyros history ID`: one prompt in full (timings, files, the error of a failed one).
 */
import { CliError } from '../errors/cli-error.ts';
import { formatDuration } from '../../ui/format.ts';
import { paint, type Style } from '../../ui/text.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { formatTimestamp, isoTime, nodeLabel, shortId, summarizeHistory, titleOf, type HistorySummary, type PromptStatus } from '../prompt-info.ts';
import { withServer, type CommandOutput } from '../server-command.ts';
import type { CommonFlags } from '../context.ts';
import { cell, formatFields, formatTable } from '../table.ts';
import type { Client } from '../../client/client.ts';

export interface HistoryFlags extends CommonFlags {
  limit?: string;
}

const STATUS_STYLE: Record<PromptStatus, Style> = { success: 'green', error: 'red', interrupted: 'yellow', unknown: 'dim' };

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 20;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new CliError('usage', `--limit "${text}" is not a positive whole number.`, { hint: 'e.g. --limit 50' });
  }
  return Number(text);
}

function summaryData(summary: HistorySummary): Record<string, unknown> {
  return {
    prompt_id: summary.promptId,
    number: summary.number,
    status: summary.status,
    client_id: summary.clientId,
    started_at: isoTime(summary.startedAt),
    finished_at: isoTime(summary.finishedAt),
    duration_ms: summary.durationMs,
    outputs: summary.outputs.length,
  };
}

function detailData(summary: HistorySummary): Record<string, unknown> {
  return {
    ...summaryData(summary),
    nodes: summary.prompt ? Object.keys(summary.prompt).length : undefined,
    cached_nodes: summary.cachedNodes,
    files: summary.outputs.map((ref) => ({ node_id: ref.nodeId, title: titleOf(summary.prompt, ref.nodeId), key: ref.key, ...ref.item })),
    texts: summary.texts,
    error: summary.failure,
    interrupted_in: summary.interruptedIn,
  };
}

async function listHistory(client: Client, out: CommandOutput, limit: number): Promise<number> {
  const entries = Object.entries(await client.api.historyList(limit)).slice(-limit);
  const summaries = entries.map(([id, entry]) => summarizeHistory(id, entry));
  if (out.json) {
    out.document({ ok: true, server: client.endpoint.display, prompts: summaries.map(summaryData) });
    return EXIT_CODES.ok;
  }
  if (summaries.length === 0) {
    out.lines([`The history of ${client.endpoint.display} is empty.`]);
    return EXIT_CODES.ok;
  }
  const header = ['NUMBER', 'PROMPT ID', 'STATUS', 'DURATION', 'OUTPUTS', 'FINISHED', 'CLIENT'].map((title) => paint('dim', title, out.color));
  const rows = summaries.map((s) => [
    s.number === undefined ? '' : String(s.number),
    s.promptId,
    paint(STATUS_STYLE[s.status], s.status, out.color),
    s.durationMs === undefined ? '' : formatDuration(s.durationMs),
    String(s.outputs.length),
    formatTimestamp(s.finishedAt),
    shortId(s.clientId),
  ]);
  out.lines([
    `${client.endpoint.display}: the last ${summaries.length} prompt${summaries.length === 1 ? '' : 's'}, newest last`,
    ...formatTable([header, ...rows], { align: ['right', 'left', 'left', 'right', 'right', 'left', 'left'] }),
  ]);
  return EXIT_CODES.ok;
}

function detailLines(summary: HistorySummary, out: CommandOutput): string[] {
  const { prompt } = summary;
  let status = paint(STATUS_STYLE[summary.status], summary.status, out.color);
  if (summary.interruptedIn?.node_id) status += ` in ${cell(nodeLabel(prompt, summary.interruptedIn.node_id))}`;
  const lines = [
    `prompt ${summary.promptId}`,
    ...formatFields(
      [
        ['status', status],
        ['number', summary.number === undefined ? undefined : String(summary.number)],
        ['client', summary.clientId],
        ['nodes', prompt ? `${Object.keys(prompt).length}${summary.cachedNodes.length > 0 ? ` (${summary.cachedNodes.length} cached)` : ''}` : undefined],
        ['started', formatTimestamp(summary.startedAt)],
        ['finished', formatTimestamp(summary.finishedAt)],
        ['duration', summary.durationMs === undefined ? undefined : formatDuration(summary.durationMs)],
      ],
      '  ',
    ),
  ];
  const failure = summary.failure;
  if (failure) {
    const where = failure.node_id ? `${cell(nodeLabel(prompt, failure.node_id))}${failure.node_type && failure.node_type !== titleOf(prompt, failure.node_id) ? ` (${cell(failure.node_type)})` : ''}` : 'a node';
    lines.push(`${paint('red', 'error', out.color)} in ${where}: ${cell(failure.exception_type)}: ${cell(failure.exception_message)}`);
    if (out.verbose && failure.traceback.length > 0) {
      lines.push('  traceback (from the server):', ...failure.traceback.join('').trimEnd().split('\n').map((line) => `    ${cell(line)}`));
    }
  }
  if (summary.outputs.length > 0) {
    lines.push(`outputs (${summary.outputs.length}):`);
    lines.push(
      ...formatTable(
        summary.outputs.map((ref) => [cell(nodeLabel(prompt, ref.nodeId)), cell(ref.item.subfolder ? `${ref.item.subfolder}/${ref.item.filename}` : ref.item.filename), cell(ref.item.type ?? 'output')]),
        { indent: '  ' },
      ),
    );
  } else {
    lines.push('outputs: none');
  }
  for (const text of summary.texts) for (const value of text.values) lines.push(`text from ${cell(nodeLabel(prompt, text.nodeId))}: ${cell(value)}`);
  if (summary.outputs.length > 0) lines.push(paint('dim', `download them with: pyros fetch ${summary.promptId}`, out.color));
  return lines;
}

async function showPrompt(client: Client, out: CommandOutput, promptId: string): Promise<number> {
  const entry = await client.api.history(promptId);
  if (!entry) {
    const queue = await client.api.queue();
    const running = queue.running.some((e) => e.promptId === promptId);
    const position = [...queue.pending].sort((a, b) => a.number - b.number).findIndex((e) => e.promptId === promptId);
    if (running || position >= 0) {
      const state = running ? 'running' : 'pending';
      if (out.json) out.document({ ok: true, server: client.endpoint.display, prompt: { prompt_id: promptId, status: state, ...(running ? {} : { position: position + 1 }) } });
      else out.lines([`prompt ${promptId}`, `  status: ${state}${running ? '' : ` (position ${position + 1} in the queue)`}`]);
      return EXIT_CODES.ok;
    }
    throw new CliError('usage', `The server at ${client.endpoint.display} knows no prompt ${promptId}: it is neither in the history nor in the queue.`, {
      hint: 'Check the id (`pyros history` lists recent ones); a restarted server forgets its history.',
    });
  }
  const summary = summarizeHistory(promptId, entry);
  if (out.json) out.document({ ok: true, server: client.endpoint.display, prompt: detailData(summary) });
  else out.lines(detailLines(summary, out));
  return EXIT_CODES.ok;
}

export async function historyCommand(promptId: string | undefined, flags: HistoryFlags): Promise<number> {
  return withServer('history', flags, async (client, out) => {
    const limit = parseLimit(flags.limit);
    return promptId === undefined ? listHistory(client, out, limit) : showPrompt(client, out, promptId);
  });
}

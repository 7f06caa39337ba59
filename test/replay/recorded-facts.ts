/**
 * What the real server produced in a recording, read straight from the .jsonl (independently of
 * the client code under test): history outputs, /view bytes, binary frames, node errors.
 */
import type { IncomingMessage } from 'node:http';
import type { ApiWorkflow, OutputRef } from '../../src/client/types.ts';
import { loadRecording, loadWorkflow, type RecordedBinary, type Recording } from '../support/replay/recording.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function workflow(scenario: string): ApiWorkflow {
  return loadWorkflow(scenario) as ApiWorkflow;
}

/** The labelled prompts of a scenario that submitted several. */
export function labelledWorkflows(scenario: string): Record<string, ApiWorkflow> {
  return loadWorkflow(scenario) as Record<string, ApiWorkflow>;
}

/** Recorded prompt ids in the order they were accepted by POST /prompt. */
export function recordedPromptIds(recording: Recording): string[] {
  return recording.exchanges.flatMap((e) => {
    const body = e.response.json;
    return e.request.path === '/prompt' && e.response.status === 200 && isRecord(body) && typeof body.prompt_id === 'string' ? [body.prompt_id] : [];
  });
}

/** The last non-empty GET /history/{id} entry the recorder got for a prompt. */
export function recordedHistory(recording: Recording, promptId: string): Record<string, unknown> {
  const entries = recording.exchanges
    .filter((e) => e.request.path === `/history/${promptId}`)
    .map((e) => (isRecord(e.response.json) ? e.response.json[promptId] : undefined))
    .filter(isRecord);
  const entry = entries.at(-1);
  if (!entry) throw new Error(`${recording.scenario}: no recorded history for ${promptId}`);
  return entry;
}

/** Every file listed in the recorded history outputs, as pyros' OutputRef, sorted. */
export function recordedOutputs(recording: Recording, promptId: string): OutputRef[] {
  const outputs = recordedHistory(recording, promptId).outputs;
  const refs: OutputRef[] = [];
  for (const [nodeId, output] of Object.entries(isRecord(outputs) ? outputs : {})) {
    for (const [key, list] of Object.entries(isRecord(output) ? output : {})) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (isRecord(item) && typeof item.filename === 'string') {
          refs.push({ nodeId, key, item: { filename: item.filename, subfolder: String(item.subfolder ?? ''), type: String(item.type ?? 'output') } });
        }
      }
    }
  }
  return sortOutputs(refs);
}

export function sortOutputs(refs: OutputRef[]): OutputRef[] {
  const key = (ref: OutputRef): string => `${ref.nodeId}/${ref.key}/${ref.item.type}/${ref.item.subfolder}/${ref.item.filename}`;
  return [...refs].sort((a, b) => key(a).localeCompare(key(b)));
}

/** The body the recorder downloaded for one /view file. */
export function recordedViewBytes(recording: Recording, item: { filename: string; subfolder?: string; type?: string }): Buffer {
  const exchange = recording.exchanges.find(
    (e) =>
      e.request.path === '/view' &&
      e.request.query.filename === item.filename &&
      (e.request.query.subfolder ?? '') === (item.subfolder ?? '') &&
      (e.request.query.type ?? 'output') === (item.type ?? 'output'),
  );
  if (!exchange?.response.bytes) throw new Error(`${recording.scenario}: no recorded /view of ${item.filename}`);
  return exchange.response.bytes;
}

/** Binary frames recorded on the given sockets, in order. */
export function recordedBinaries(recording: Recording, sockets: string[] = ['main']): RecordedBinary[] {
  return recording.events.flatMap((event) => (event.kind === 'binary' && sockets.includes(event.socket) ? [event.frame] : []));
}

/** Recorded text frames of one type on the given sockets. */
export function recordedMessages(recording: Recording, type: string, sockets: string[] = ['main']): Record<string, unknown>[] {
  return recording.events.flatMap((event) => {
    if (event.kind !== 'text' || !sockets.includes(event.socket) || !isRecord(event.json) || event.json.type !== type) return [];
    return isRecord(event.json.data) ? [event.json.data] : [];
  });
}

export function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export { loadRecording };

/** `--json`: one JSON object per line on stdout for every event, then a result or error object. */
import type { JobSource } from '../../ui/display-core.ts';
import { maskSecrets } from '../../client/endpoint.ts';
import type { SavedFile } from '../../outputs/save.ts';
import type { Phase, PhaseDetail } from '../../ui/progress-model.ts';
import type { ErrorBlock } from '../../ui/summary.ts';
import type { Reporter } from './reporter.ts';

export class JsonReporter implements Reporter {
  private readonly out: NodeJS.WritableStream;
  private readonly secrets: readonly string[];
  private readonly verbose: boolean;
  private readonly extra: Record<string, unknown>;


  constructor(options: { out?: NodeJS.WritableStream; secrets: readonly string[]; verbose: boolean; extra?: Record<string, unknown> }) {
    this.out = options.out ?? process.stdout;
    this.secrets = options.secrets;
    this.verbose = options.verbose;
    this.extra = options.extra ?? {};
  }

  emit(event: string, data: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ event, time: new Date().toISOString(), ...this.extra, ...data });
    this.out.write(`${maskSecrets(line, this.secrets)}\n`);
  }

  note(message: string, data: Record<string, unknown> = {}): void {
    this.emit('note', { message, ...data });
  }

  debug(message: string): void {
    if (this.verbose) process.stderr.write(`${maskSecrets(message, this.secrets)}\n`);
  }

  phase(phase: Phase, detail?: PhaseDetail): void {
    this.emit('phase', { phase, ...detail });
  }

  dispatched(info: { promptId: string; server: string; attempt: number }): void {
    if ('server' in this.extra) this.extra.server = info.server;
    this.emit('job', { prompt_id: info.promptId, server: info.server, attempt: info.attempt });
  }

  moved(info: { from: string; promptId: string; reason: string }): void {
    this.emit('moved', { prompt_id: info.promptId, server: info.from, reason: info.reason });
  }

  follow(job: JobSource): void {
    job.on('submitted', (info) => this.emit('submitted', { prompt_id: info.promptId, number: info.number, warnings: info.warnings }));
    job.on('queued', (info) => this.emit('queued', { ...info }));
    job.on('started', () => this.emit('started', { prompt_id: job.promptId }));
    job.on('cached', (info) => this.emit('cached', { nodes: info.nodes.map((n) => n.nodeId) }));
    job.on('node', (node) => this.emit('node', { node_id: node.nodeId, title: node.title, class_type: node.classType }));
    job.on('progress', (info) => this.emit('progress', { node_id: info.node.nodeId, value: info.value, max: info.max }));
    job.on('overall', (info) => this.emit('overall', { ...info }));
    job.on('preview', (info) => this.emit('preview', { mime: info.mime, bytes: info.image.length, node_id: info.node?.nodeId }));
    job.on('text', (info) => this.emit('text', { node_id: info.node.nodeId, text: info.text }));
    job.on('connection', (info) => {
      if (info.state !== 'checking') this.emit('connection', { state: info.state, attempt: info.attempt, delay_ms: info.delayMs, reason: info.reason });
    });
    job.on('debug', (message) => this.debug(message));
  }

  saved(file: SavedFile): void {
    this.emit('saved', { path: file.path, bytes: file.bytes, node_id: file.nodeId, server_name: file.serverName, sidecars: file.sidecars });
  }

  result(_lines: string[], data: Record<string, unknown>): void {
    this.emit('result', data);
  }

  error(_block: ErrorBlock, data: Record<string, unknown>): void {
    this.out.write(`${maskSecrets(JSON.stringify({ ...data, time: new Date().toISOString(), ...this.extra }), this.secrets)}\n`);
  }

  close(): void {}
}

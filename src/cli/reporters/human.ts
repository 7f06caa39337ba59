/**
 * Human output: progress as plain lines (stdout not a terminal) or one updating line (terminal),
 * results on stdout, errors and diagnostics on stderr.
 */
import type { Job } from '../../client/job.ts';
import { maskSecrets } from '../../client/endpoint.ts';
import type { SavedFile } from '../../outputs/save.ts';
import type { Phase, Reporter } from './reporter.ts';

export class HumanReporter implements Reporter {
  private readonly out: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly secrets: readonly string[];
  private readonly verbose: boolean;
  private statusShown = false;
  private lastDecile = -1;
  private lastNode = '';

  constructor(options: { out?: NodeJS.WriteStream; live: boolean; secrets: readonly string[]; verbose: boolean }) {
    this.out = options.out ?? process.stdout;
    this.live = options.live;
    this.secrets = options.secrets;
    this.verbose = options.verbose;
  }

  private line(text: string): void {
    this.clearStatus();
    this.out.write(`${maskSecrets(text, this.secrets)}\n`);
  }

  private status(text: string): void {
    if (!this.live) {
      this.line(text);
      return;
    }
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.out.write(`\r\x1b[2K${maskSecrets(shown, this.secrets)}`);
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (this.statusShown) this.out.write('\r\x1b[2K');
    this.statusShown = false;
  }

  note(message: string): void {
    this.line(message);
  }

  debug(message: string): void {
    if (!this.verbose) return;
    this.clearStatus();
    process.stderr.write(`${maskSecrets(message, this.secrets)}\n`);
  }

  phase(phase: Phase, detail?: string): void {
    this.status(`${phase}${detail ? ` ${detail}` : ''}…`);
  }

  follow(job: Job): void {
    job.on('submitted', (info) => {
      this.line(`prompt ${info.promptId}`);
      for (const warning of info.warnings) this.line(`warning: node #${warning.nodeId} "${warning.title}": ${warning.message}`);
    });
    job.on('queued', (info) => this.status(`queued: position ${info.position} (${info.ahead} ahead)`));
    job.on('started', () => this.status('running'));
    job.on('cached', (info) => this.status(`cached ${info.nodes.length} node${info.nodes.length === 1 ? '' : 's'}`));
    job.on('node', (node) => {
      this.lastDecile = -1;
      this.lastNode = `"${node.title}"${node.classType && node.classType !== node.title ? ` (${node.classType})` : ''}`;
      this.status(`running ${this.lastNode}`);
    });
    job.on('progress', ({ value, max }) => {
      const percent = max > 0 ? Math.floor((value / max) * 100) : 0;
      const decile = Math.floor(percent / 10);
      if (!this.live && decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.status(`running ${this.lastNode} ${value}/${max} ${percent}%`);
    });
    job.on('text', (info) => this.line(`text from "${info.node.title}": ${info.text}`));
    job.on('connection', (info) => {
      if (info.state === 'reconnecting') this.status(`connection lost (${info.reason}); reconnecting in ${((info.delayMs ?? 0) / 1000).toFixed(1)} s`);
      else if (info.state === 'reconnected') this.status('reconnected');
    });
    job.on('debug', (message) => this.debug(message));
  }

  saved(file: SavedFile): void {
    this.line(`saved ${file.path} (${formatBytes(file.bytes)})`);
  }

  result(lines: string[]): void {
    for (const text of lines) this.line(text);
  }

  error(lines: string[]): void {
    this.clearStatus();
    for (const text of lines) process.stderr.write(`${maskSecrets(text, this.secrets)}\n`);
  }

  close(): void {
    this.clearStatus();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `pyros stats`: versions, OS, memory and every device of the server. */
import { formatBytes } from '../../ui/format.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { withServer } from '../server-command.ts';
import type { CommonFlags } from '../context.ts';
import { cell, formatFields, formatTable } from '../table.ts';

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** `3.1 GiB used of 24.0 GiB (13%)`. */
function usage(total: number | undefined, free: number | undefined): string | undefined {
  if (total === undefined) return undefined;
  if (free === undefined) return `${formatBytes(total)} total`;
  const used = Math.max(0, total - free);
  return `${formatBytes(used)} used of ${formatBytes(total)} (${total > 0 ? Math.round((used / total) * 100) : 0}%)`;
}

export async function statsCommand(flags: CommonFlags): Promise<number> {
  return withServer('stats', flags, async (client, out) => {
    const stats = await client.api.systemStats();
    const system = record(stats.system);
    const devices = Array.isArray(stats.devices) ? stats.devices.map(record) : [];
    if (out.json) {
      out.document({
        ok: true,
        server: client.endpoint.display,
        system,
        devices: devices.map((device) => {
          const total = num(device.vram_total);
          const free = num(device.vram_free);
          return { ...device, vram_used: total !== undefined && free !== undefined ? Math.max(0, total - free) : undefined };
        }),
      });
      return EXIT_CODES.ok;
    }
    const text = (value: unknown): string | undefined => (value === undefined || value === null || value === '' ? undefined : cell(value));
    const frontend = text(system.required_frontend_version);
    const lines = formatFields([
      ['server', client.endpoint.display],
      ['ComfyUI', text(system.comfyui_version) === undefined ? undefined : `${cell(system.comfyui_version)}${frontend ? ` (frontend ${frontend})` : ''}`],
      ['Python', text(system.python_version)],
      ['PyTorch', text(system.pytorch_version)],
      ['OS', text(system.os)],
      ['RAM', usage(num(system.ram_total), num(system.ram_free))],
      ['arguments', Array.isArray(system.argv) ? cell(system.argv.join(' ')) : undefined],
    ]);
    lines.push(devices.length === 0 ? 'devices: none reported' : `devices (${devices.length}):`);
    lines.push(
      ...formatTable(
        devices.map((device) => {
          const index = device.index === null || device.index === undefined ? '' : `:${cell(device.index)}`;
          return [`${cell(device.type ?? '?')}${index}`, cell(device.name ?? ''), `VRAM ${usage(num(device.vram_total), num(device.vram_free)) ?? 'unknown'}`];
        }),
        { indent: '  ' },
      ),
    );
    out.lines(lines);
    return EXIT_CODES.ok;
  });
}

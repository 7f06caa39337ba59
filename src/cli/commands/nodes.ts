/**
 * `pyros nodes [FILTER]`: the node classes the server knows (GET /object_info), filtered by name;
 * for a single class (or with --inputs) its inputs with types, defaults, ranges and choices, and
 * its outputs.
 */
import { CliError } from '../errors/cli-error.ts';
import { paint } from '../../ui/text.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { withServer, type CommandOutput } from '../server-command.ts';
import type { CommonFlags } from '../context.ts';
import { cell, formatTable } from '../table.ts';

export interface NodesFlags extends CommonFlags {
  inputs?: boolean;
}

export interface InputInfo {
  name: string;
  /** INT, FLOAT, STRING, BOOLEAN, COMBO, or a link type such as MODEL or IMAGE. */
  type: string;
  default?: unknown;
  min?: unknown;
  max?: unknown;
  step?: unknown;
  choices?: unknown[];
  multiline?: boolean;
  tooltip?: string;
}

export interface NodeInfo {
  name: string;
  display_name: string;
  category: string;
  description: string;
  output_node: boolean;
  deprecated: boolean;
  inputs: { required: InputInfo[]; optional: InputInfo[] };
  outputs: { index: number; type: string; name: string; is_list: boolean }[];
}

/** Longest choice list shown in full; longer ones are cut (--json has them all). */
const MAX_CHOICES = 8;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function inputInfo(name: string, spec: unknown): InputInfo {
  const [kind, rawOptions] = Array.isArray(spec) ? spec : [spec, undefined];
  const options = record(rawOptions);
  const info: InputInfo = { name, type: Array.isArray(kind) ? 'COMBO' : typeof kind === 'string' ? kind : String(kind) };
  if (Array.isArray(kind)) info.choices = kind;
  else if (Array.isArray(options.options)) info.choices = options.options;
  for (const key of ['default', 'min', 'max', 'step'] as const) if (options[key] !== undefined) info[key] = options[key];
  if (options.multiline === true) info.multiline = true;
  if (typeof options.tooltip === 'string') info.tooltip = options.tooltip;
  return info;
}

function section(input: Record<string, unknown>, order: Record<string, unknown>, name: 'required' | 'optional'): InputInfo[] {
  const specs = record(input[name]);
  const listed = Array.isArray(order[name]) ? (order[name] as unknown[]).map(String).filter((key) => key in specs) : [];
  const names = [...listed, ...Object.keys(specs).filter((key) => !listed.includes(key))];
  return names.map((key) => inputInfo(key, specs[key]));
}

export function nodeInfo(name: string, raw: unknown): NodeInfo {
  const spec = record(raw);
  const input = record(spec.input);
  const order = record(spec.input_order);
  const types = Array.isArray(spec.output) ? spec.output : [];
  const names = Array.isArray(spec.output_name) ? spec.output_name : [];
  const lists = Array.isArray(spec.output_is_list) ? spec.output_is_list : [];
  return {
    name,
    display_name: typeof spec.display_name === 'string' && spec.display_name !== '' ? spec.display_name : name,
    category: typeof spec.category === 'string' ? spec.category : '',
    description: typeof spec.description === 'string' ? spec.description : '',
    output_node: spec.output_node === true,
    deprecated: spec.deprecated === true,
    inputs: { required: section(input, order, 'required'), optional: section(input, order, 'optional') },
    outputs: types.map((type, index) => ({
      index,
      type: Array.isArray(type) ? 'COMBO' : String(type),
      name: typeof names[index] === 'string' ? (names[index] as string) : String(type),
      is_list: lists[index] === true,
    })),
  };
}

/** Limits ComfyUI writes as 0xffffffffffffffff and 0x7fffffffffffffff, which a JSON number rounds. */
const ROUNDED_LIMITS = new Map([
  [2 ** 64, '18446744073709551615'],
  [2 ** 63, '9223372036854775807'],
]);

function show(value: unknown): string {
  if (typeof value === 'number' && ROUNDED_LIMITS.has(value)) return ROUNDED_LIMITS.get(value) as string;
  return JSON.stringify(value) ?? String(value);
}

function inputDetails(info: InputInfo): string {
  const parts: string[] = [];
  if (info.default !== undefined) parts.push(`default ${show(info.default)}`);
  if (info.min !== undefined) parts.push(`min ${show(info.min)}`);
  if (info.max !== undefined) parts.push(`max ${show(info.max)}`);
  if (info.step !== undefined) parts.push(`step ${show(info.step)}`);
  if (info.multiline) parts.push('multiline');
  if (info.choices) {
    const shown = info.choices.slice(0, MAX_CHOICES).map((choice) => (typeof choice === 'string' ? choice : show(choice)));
    const more = info.choices.length - shown.length;
    parts.push(info.choices.length === 0 ? 'no choices' : `${shown.join(', ')}${more > 0 ? `, … (${more} more)` : ''}`);
  }
  return cell(parts.join(', '));
}

function detailLines(node: NodeInfo, out: CommandOutput): string[] {
  const lines = [`${paint('bold', cell(node.name), out.color)}  "${cell(node.display_name)}"  ${paint('dim', `(${cell(node.category || 'no category')})`, out.color)}${node.output_node ? '  output node' : ''}${node.deprecated ? '  deprecated' : ''}`];
  if (node.description) lines.push(`  ${cell(node.description.split('\n')[0])}`);
  for (const kind of ['required', 'optional'] as const) {
    const inputs = node.inputs[kind];
    if (inputs.length === 0) continue;
    lines.push(`${kind} inputs:`);
    lines.push(...formatTable(inputs.map((input) => [cell(input.name), cell(input.type), inputDetails(input)]), { indent: '  ' }));
  }
  if (node.inputs.required.length + node.inputs.optional.length === 0) lines.push('inputs: none');
  if (node.outputs.length === 0) lines.push('outputs: none');
  else {
    lines.push('outputs:');
    lines.push(
      ...formatTable(
        node.outputs.map((output) => [String(output.index), cell(output.type), output.name === output.type ? '' : cell(output.name), output.is_list ? 'list' : '']),
        { indent: '  ', align: ['right'] },
      ),
    );
  }
  return lines;
}

export async function nodesCommand(filter: string | undefined, flags: NodesFlags): Promise<number> {
  return withServer('nodes', flags, async (client, out) => {
    const catalogue = await client.api.objectInfo();
    const all = Object.entries(catalogue).map(([name, raw]) => nodeInfo(name, raw));
    const query = filter?.trim().toLowerCase() ?? '';
    const exact = all.filter((node) => node.name.toLowerCase() === query);
    const matches =
      query === ''
        ? all
        : exact.length === 1
          ? exact
          : all.filter((node) => node.name.toLowerCase().includes(query) || node.display_name.toLowerCase().includes(query));
    matches.sort((a, b) => a.name.localeCompare(b.name, 'en'));
    if (matches.length === 0) {
      throw new CliError('usage', `No node class on ${client.endpoint.display} matches "${filter}" (${all.length} classes).`, {
        hint: 'The filter is a part of a class name or display name, e.g. `pyros nodes sampler`; `pyros nodes` lists them all.',
      });
    }
    const detailed = matches.length === 1 || Boolean(flags.inputs);
    if (out.json) {
      out.document({
        ok: true,
        server: client.endpoint.display,
        total: all.length,
        nodes: matches.map((node) => (detailed ? node : { name: node.name, display_name: node.display_name, category: node.category })),
      });
      return EXIT_CODES.ok;
    }
    if (detailed) {
      out.lines(matches.flatMap((node, index) => [...(index > 0 ? [''] : []), ...detailLines(node, out)]));
      return EXIT_CODES.ok;
    }
    const header = ['NAME', 'DISPLAY NAME', 'CATEGORY'].map((title) => paint('dim', title, out.color));
    out.lines([
      ...formatTable([header, ...matches.map((node) => [cell(node.name), cell(node.display_name), cell(node.category)])]),
      paint('dim', `${matches.length} of ${all.length} node classes${query ? ` match "${cell(filter)}"` : ''}; pyros nodes NAME shows one class's inputs and outputs.`, out.color),
    ]);
    return EXIT_CODES.ok;
  });
}

/**
 * The editor's `%…%` replacements in the filename prefix of save nodes: `%date:FORMAT%` and
 * `%Node.widget%`, where Node is a node's "Node name for S&R" property or, failing that, its title.
 */

/** Node classes whose `filename_prefix` the editor expands before sending. */
export const SAVE_NODE_TYPES = new Set([
  'SaveImage', 'SaveImageAdvanced', 'SaveSVGNode', 'SaveVideo', 'SaveAnimatedWEBP', 'SaveWEBM', 'SaveAudio',
  'SaveAudioMP3', 'SaveAudioOpus', 'SaveAudioAdvanced', 'SaveGLB', 'Save3DAdvanced', 'SaveGaussianSplat',
  'SavePointCloud', 'SaveAnimatedPNG', 'CLIPSave', 'VAESave', 'ModelSave', 'LoraSave', 'SaveLatent',
]);

export interface ReplacementNode {
  searchName: unknown;
  title: string;
  widgetValue(name: string): { found: boolean; value: unknown };
}

export function applyTextReplacements(value: string, nodes: readonly ReplacementNode[], now: Date): string {
  return value.replace(/%([^%]+)%/g, (match, text: string) => {
    const split = text.split('.');
    if (split.length !== 2) {
      if (split[0]!.startsWith('date:')) return formatDate(split[0]!.substring(5), now);
      return match;
    }
    const [nodeName, widgetName] = split as [string, string];
    let matches = nodes.filter((node) => node.searchName === nodeName);
    if (!matches.length) matches = nodes.filter((node) => node.title === nodeName);
    const node = matches[0];
    if (!node) return match;
    const widget = node.widgetValue(widgetName);
    if (!widget.found) return match;
    return String(widget.value ?? '').replaceAll(/[/?<>\\:*|"\x00-\x1F\x7F]/g, '_');
  });
}

const DATE_PARTS: Record<string, (date: Date) => number> = {
  d: (date) => date.getDate(),
  M: (date) => date.getMonth() + 1,
  h: (date) => date.getHours(),
  m: (date) => date.getMinutes(),
  s: (date) => date.getSeconds(),
};
const DATE_PATTERN = new RegExp(Object.keys(DATE_PARTS).map((key) => key + key + '?').join('|') + '|yyy?y?', 'g');

export function formatDate(format: string, date: Date): string {
  return format.replace(DATE_PATTERN, (token) => {
    if (token === 'yy') return String(date.getFullYear()).substring(2);
    if (token === 'yyyy') return String(date.getFullYear());
    const part = DATE_PARTS[token[0]!];
    if (part) return String(part(date)).padStart(token.length, '0');
    return token;
  });
}

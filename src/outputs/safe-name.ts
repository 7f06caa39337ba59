/**
 * A file name from the server is untrusted: reduce it to a plain base name that cannot leave the
 * output folder (no separators, no `..`, no drive letter, no NUL or control characters).
 */
const MAX_NAME_LENGTH = 180;

export function safeFileName(serverName: string, fallback = 'output'): string {
  const lastSegment = serverName.split(/[\\/]/).pop() ?? '';
  let name = lastSegment
    .replace(/^[a-zA-Z]:/, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (name === '' || /^_+$/.test(name)) name = fallback;
  if (name.length > MAX_NAME_LENGTH) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : '';
    name = name.slice(0, MAX_NAME_LENGTH - ext.length) + ext;
  }
  return name;
}

/** Splits `name.ext` into stem and extension (`.ext`, or '' when there is none). */
export function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? { stem: name.slice(0, dot), ext: name.slice(dot) } : { stem: name, ext: '' };
}

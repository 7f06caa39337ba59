/**
 * The editor's "dynamic prompt" processing of text widgets marked `dynamicPrompts`: C-style comments
 * are removed, `{a|b|c}` picks one option at random (nested groups allowed), and `\{`, `\}`, `\|`
 * escape those characters.
 */
export function processDynamicPrompt(text: string, random: () => number = Math.random): string {
  const input = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*/g, '');
  let position = 0;

  const escaped = (): string => '\\' + (input[position++] ?? '');

  const choiceBlock = (): string => {
    const options: string[] = [];
    let choice = '';
    let depth = 0;
    while (position < input.length) {
      const char = input[position++]!;
      if (char === '\\') {
        choice += escaped();
        continue;
      } else if (char === '{') {
        depth++;
      } else if (char === '}') {
        if (!depth) break;
        depth--;
      } else if (char === '|' && !depth) {
        options.push(choice);
        choice = '';
        continue;
      }
      choice += char;
    }
    options.push(choice);
    return processDynamicPrompt(options[Math.floor(random() * options.length)] ?? '', random);
  };

  let result = '';
  while (position < input.length) {
    const char = input[position++]!;
    if (char === '\\') result += escaped();
    else if (char === '{') result += choiceBlock();
    else result += char;
  }
  return result.replace(/\\([{}|])/g, '$1');
}

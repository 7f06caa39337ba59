/** What to do about each usage error of the library, in the command line's words. */
import type { ErrorFields, ErrorReasons } from '../../errors.ts';

type Hint = (fields: Readonly<ErrorFields>) => string | undefined;

const EXPORT_API =
  'Open it in ComfyUI and use the Workflow menu → Export (API) to save the API format. ' +
  'In older versions, enable "Dev mode Options" in the settings (gear icon), then use "Save (API Format)".';

const VARIABLE_SYNTAX =
  'Variables look like __color__, __color:3__ (the third entry) or __styles/*__ (any file of a folder); names are letters, digits, _ - . and / between folders.';

const VARS_FOLDER = 'Give --vars (or "vars" in the config file) a folder that holds NAME.txt files, one entry per line.';

/** `Name the input to set with --prompt-input NODE.INPUT (e.g. --prompt-input 6.text), …` */
function nameInputHint(option: string, example: string | undefined): string {
  const shown = example ? ` (e.g. ${option} ${example})` : '';
  return `Name the input to set with ${option} NODE.INPUT${shown}, where NODE is a node id or title and INPUT the input's name.`;
}

/** `A, B or C` */
function either(names: readonly string[]): string {
  return names.join(', ').replace(/, ([^,]*)$/, ' or $1');
}

function linkedHint(upstream: ErrorFields['upstream']): string | undefined {
  if (!upstream) return undefined;
  const only = upstream.inputs.length === 1 ? upstream.inputs[0] : undefined;
  if (only !== undefined) return `Set the value on the node it comes from instead: --set ${upstream.nodeId}.${only}=…`;
  const inputs = upstream.inputs.length > 0 ? ` (its inputs: ${upstream.inputs.join(', ')})` : '';
  return `Set an input of node ${upstream.nodeId} instead${inputs}, or remove the link in ComfyUI and export the workflow again.`;
}

function unknownVariableHint(fields: Readonly<ErrorFields>): string {
  const candidates = fields.candidates ?? [];
  if (candidates.length > 0) return `Did you mean ${either(candidates.map((name) => `__${name}__`))}?`;
  const name = fields.name ?? 'NAME';
  const what = name.endsWith('/*') ? `the folder ${name.slice(0, -2)}` : `${name}.txt (one entry per line)`;
  return `Create ${what} in ${fields.path ?? 'a variable folder'}, or pass another folder with --vars.`;
}

export const USAGE_HINTS: Record<ErrorReasons['usage'], Hint> = {
  'invalid-url': () => 'Give the server as http://HOST:PORT, e.g. --server http://127.0.0.1:8188',
  'unsupported-scheme': () => 'Only http, https, ws and wss servers are supported, e.g. --server https://comfy.example.com',
  'invalid-seed': (f) => `Use a whole number from 0 to ${f.limit ?? Number.MAX_SAFE_INTEGER}, or "random".`,
  'workflow-not-found': (f) => (f.resolvedPath ? `Looked for ${f.resolvedPath}; check the path.` : 'Check the path.'),
  'workflow-is-directory': () => 'Give the path of a .json workflow file saved in API format.',
  'workflow-unreadable': () => 'Check that the file exists and that you may read it.',
  'workflow-empty': () => 'Save a workflow in API format into it.',
  'workflow-invalid-json': (f) => (f.excerpt && f.line !== undefined ? `Line ${f.line}:\n  ${f.excerpt.text}\n  ${' '.repeat(Math.max(0, f.excerpt.column - 1))}^` : undefined),
  'workflow-editor-format': () => EXPORT_API,
  'workflow-several-entries': () => 'Save the answer of GET /history/{prompt_id} for a single prompt, or the "prompt" of one entry.',
  'workflow-not-object': () => 'An API-format workflow looks like {"3": {"class_type": "KSampler", "inputs": {…}}, …}.',
  'workflow-no-nodes': () => 'Export a workflow with at least one node.',
  'workflow-bad-node': () => `Every node must look like {"class_type": "KSampler", "inputs": {…}}. ${EXPORT_API}`,
  'target-no-node': () => 'Name a node by its id or by its title as shown in ComfyUI.',
  'target-ambiguous': (f) => `Use the node id instead, e.g. ${f.candidates?.[0] ?? 'ID'}.<input>.`,
  'target-no-input': (f) => (f.candidates?.[0] ? `Did you mean ${f.candidates[0]}?` : undefined),
  'target-linked': (f) => linkedHint(f.upstream),
  'prompt-not-found': (f) => nameInputHint('--prompt-input', f.candidates?.[0]),
  'prompt-ambiguous': (f) => nameInputHint('--prompt-input', f.candidates?.[0]),
  'seed-not-found': (f) => nameInputHint('--seed-input', f.candidates?.[0]),
  'seed-input-not-number': () => 'Name an input that holds a whole number, such as KSampler.seed or RandomNoise.noise_seed.',
  'variable-invalid': () => VARIABLE_SYNTAX,
  'variable-unknown': unknownVariableHint,
  'variable-is-folder': (f) => `Use __${f.name}/*__ for an entry of any of its files, or __${f.name}/NAME__ for one file.`,
  'variable-folder-empty': () => 'Put files with one entry per line into it.',
  'variable-empty': () => 'Add one entry per line.',
  'variable-index': (f) => `Use an index from 1 to ${f.count}; blank lines and # comments are not counted.`,
  'variable-cycle': (f) => `An entry of __${f.name}__ leads back to itself; remove that reference from one of these variable files.`,
  'variable-too-deep': () => 'Variables inside variable entries are expanded, but only this deep; flatten the chain.',
  'variable-file-too-large': () => 'A variable file is a list of entries, one per line; split it into smaller files.',
  'variable-file-unreadable': () => 'Check that the file exists and that you may read it.',
  'vars-folder-missing': () => VARS_FOLDER,
  'vars-not-a-folder': () => VARS_FOLDER,
  'pool-empty': () => 'Give at least one server with --server.',
  'pool-closed': () => undefined,
  'not-in-pool': () => 'Give one of the --server addresses of the pool.',
  'workflow-unknown-format': () => 'Give an API- or editor-format workflow (.json), or a PNG, WebP, MP4, WebM, FLAC, Opus or MP3 file ComfyUI saved with its workflow.',
  'workflow-too-large': () => 'Give the workflow file itself (a few MB at most).',
  'workflow-not-comfyui': () => 'Give a workflow saved from ComfyUI, an image, video or audio file ComfyUI saved, or the .json file pyros writes beside each output.',
  'media-truncated': () => 'The file was cut short (an interrupted download or copy); get the complete file again.',
  'media-damaged': () => 'Its bytes changed after it was saved; get an intact copy of the file.',
  'media-no-workflow': () =>
    'ComfyUI embeds the workflow in the files its save nodes write (SaveImage, SaveAnimatedPNG, SaveAnimatedWEBP, SaveVideo, SaveWEBM, SaveAudio, …). ' +
    'It is missing when the file was made or re-saved by a node or tool that does not keep metadata (an image editor, a converter, ' +
    'a chat or upload service that re-encodes files), or when the ComfyUI server ran with its --disable-metadata option.',
  'media-bad-json': () => 'The metadata was damaged or written by a tool that does not store JSON there; save the workflow from ComfyUI again.',
  'media-not-editor-workflow': () => 'The metadata was written by a tool that stores something else under that name; save the workflow from ComfyUI again.',
  'workflow-not-editor': () => 'An editor workflow has a "nodes" list and a "links" list; save the workflow from ComfyUI and try again.',
  'workflow-already-api': () => 'Run it as it is: an API-format workflow needs no conversion.',
  'workflow-missing-classes': () => 'Install the missing node packages on the server (and restart it), or remove those nodes from the workflow.',
  'definitions-invalid': () => 'Give the answer of GET /object_info (--object-info FILE), or let pyros read it from the server.',
  'subgraph-contains-itself': () => 'Remove the instance of the subgraph from inside its own definition.',
  'links-loop': () => 'Break the loop of links (often through reroutes or bypassed nodes).',
  'upload-unreadable': (f) => `Check that ${f.path ?? 'the file'} exists and can be read (--input, --set NODE.INPUT=@FILE).`,
  'journal-missing': () => 'Give the output folder of the run to resume (-o/--output of `pyros run`): every run keeps its journal there, in .pyros-journal/.',
  'journal-corrupt': (f) =>
    `Nothing was changed or deleted. Look at ${f.line === undefined ? 'the file' : `line ${f.line}`} of the journal; remove the journal (or move it away) to give up resuming that run.`,
  'journal-unsupported': () => 'It was written by a newer pyros; resume it with that version.',
  'journal-locked': (f) =>
    `Wait for it to finish, or stop it${f.pid === undefined ? '' : ` (pid ${f.pid})`} first; a lock whose process has ended is taken over by itself.`,
};

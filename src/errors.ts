/**
 * Every failure the library reports is a PyrosError: a `kind` (what went wrong, broadly), a
 * `reason` (which case of that kind), `fields` (the data of the case: server, prompt id, node,
 * input, limit …) and a plain message. Deciding what to do is up to the caller: branch on kind
 * and reason, read the fields; the message is for logs and people, not for parsing.
 */
export type ErrorKind =
  | 'usage' // bad input: options, workflow file, inputs to set, variables
  | 'connection' // cannot reach the server, or it is not ComfyUI, or it refused us
  | 'rejected' // POST /prompt answered 400 (validation)
  | 'execution' // a node failed while the prompt ran
  | 'interrupted' // the prompt was interrupted on the server
  | 'cancelled' // the caller cancelled
  | 'output' // an output could not be written or fetched
  | 'timeout' // a time limit was reached
  | 'lost' // the server forgot the prompt (restart), or no server finished it
  | 'server'; // the server answered with an error or with something malformed

/** The cases of each kind. */
export interface ErrorReasons {
  usage:
    | 'invalid-url' // the server address is not a URL
    | 'unsupported-scheme' // not http, https, ws or wss
    | 'invalid-seed'
    | 'workflow-not-found'
    | 'workflow-is-directory'
    | 'workflow-unreadable'
    | 'workflow-empty'
    | 'workflow-invalid-json'
    | 'workflow-editor-format' // saved from the editor, not exported in API format
    | 'workflow-several-entries' // a history answer with more than one prompt
    | 'workflow-not-object'
    | 'workflow-no-nodes'
    | 'workflow-bad-node'
    | 'target-no-node' // no node has that id or title
    | 'target-ambiguous' // several nodes have that title or class
    | 'target-no-input' // the node has no input of that name
    | 'target-linked' // the input is connected to another node, not a value
    | 'prompt-not-found' // no input could be detected as the prompt
    | 'prompt-ambiguous' // several inputs could be the prompt
    | 'seed-not-found' // a seed was given but no seed input was detected
    | 'seed-input-not-number' // the named seed input holds no number
    | 'variable-invalid'
    | 'variable-unknown'
    | 'variable-is-folder'
    | 'variable-folder-empty'
    | 'variable-empty'
    | 'variable-index'
    | 'variable-cycle'
    | 'variable-too-deep'
    | 'variable-file-too-large'
    | 'variable-file-unreadable'
    | 'vars-folder-missing'
    | 'vars-not-a-folder'
    | 'pool-empty' // a Pool without servers
    | 'pool-closed' // a job given to a closed Pool
    | 'not-in-pool' // a prompt followed on a server the pool does not have
    | 'upload-unreadable' // a file to upload cannot be read
    | 'workflow-unknown-format' // neither JSON nor a media file ComfyUI saves
    | 'workflow-too-large' // far too much text for a workflow
    | 'workflow-not-comfyui' // JSON of another kind
    | 'media-truncated' // a media file cut short
    | 'media-damaged' // a media file whose bytes changed
    | 'media-no-workflow' // a media file without embedded workflow
    | 'media-bad-json' // embedded metadata that is not JSON
    | 'media-not-editor-workflow' // an embedded "workflow" that is not one
    | 'workflow-not-editor' // conversion: not an editor workflow
    | 'workflow-already-api' // conversion: already in API format
    | 'workflow-missing-classes' // node classes the server does not have
    | 'definitions-invalid' // node definitions that are not /object_info's shape
    | 'subgraph-contains-itself' // a subgraph instance inside its own definition
    | 'links-loop' // links that go round in a loop
    | 'journal-missing' // no journal of a run in the folder
    | 'journal-corrupt' // a journal line that is not an entry (before its last line)
    | 'journal-unsupported' // a journal written by a newer version
    | 'journal-locked'; // another live process holds the journal
  connection:
    | 'refused'
    | 'host-not-found'
    | 'unreachable'
    | 'reset'
    | 'tls' // the certificate check failed
    | 'not-comfyui' // an answer, but not one ComfyUI gives
    | 'unauthorized' // HTTP 401 or 403 (on a route or on the WebSocket upgrade)
    | 'upgrade-refused' // the WebSocket upgrade was answered with another status
    | 'socket-closed' // the WebSocket closed before it opened
    | 'handshake-timeout' // the WebSocket did not open in time
    | 'unexpected-status' // a route answered with an unexpected HTTP status
    | 'unavailable' // no server of a pool could be reached
    | 'submission-unknown' // the answer to POST /prompt was lost and the server could not be asked whether it queued the prompt
    | 'failed'; // any other network failure
  rejected: 'validation';
  execution: 'node-failed';
  interrupted: 'on-server';
  cancelled:
    | 'by-user'
    | 'server-not-told' // cancelled here, but the server could not be reached to stop it
    | 'pool-closed'; // the pool was closed before the job finished
  output:
    | 'disk-full'
    | 'read-only' // read-only file system
    | 'not-writable' // permission denied
    | 'not-a-folder'
    | 'write-failed'
    | 'file-missing' // the server no longer has the file (HTTP 404 on /view)
    | 'download-refused'; // /view answered another 4xx
  timeout:
    | 'job' // the job's own limit (timeoutMs), after the server accepted it
    | 'job-not-accepted' // the job's own limit, before the server accepted it
    | 'request'; // one HTTP request got no answer in time
  lost:
    | 'forgotten' // neither queued nor in the history (the server restarted)
    | 'not-queued' // the answer to POST /prompt was lost, and the server, asked since, does not have the prompt
    | 'unknown' // a prompt followed by id that the server never had, or no longer has
    | 'moved' // a pool took the job off this server
    | 'moved-too-often'; // a pool tried every attempt and none finished
  server:
    | 'http-5xx'
    | 'unexpected-status'
    | 'malformed' // an answer of an unexpected shape
    | 'history-missing' // the run ended but /history did not list it in time
    | 'download-cut'; // the download ended before its declared length
}

export type ErrorReason<K extends ErrorKind = ErrorKind> = ErrorReasons[K];

/** A node of the workflow, as people know it. */
export interface ErrorNode {
  nodeId: string;
  title?: string;
  classType?: string;
}

/** The data of a failure; each reason documents which fields it sets. Never holds secrets. */
export interface ErrorFields {
  /** The server's display address (no credentials). */
  server?: string;
  promptId?: string;
  node?: ErrorNode;
  input?: string;
  /** The time limit that was reached, in milliseconds. */
  limitMs?: number;
  /** The HTTP status of the answer. */
  status?: number;
  method?: string;
  /** The HTTP route, e.g. `/prompt`. */
  route?: string;
  /** A local file or folder. */
  path?: string;
  /** `path` made absolute, when that differs. */
  resolvedPath?: string;
  /** A file name: an output on the server, or a workflow source ("stdin"). */
  file?: string;
  /** The text that was given and refused (masked). */
  value?: string;
  /** What could have been meant: names, ids or `NODE.INPUT`s, best first. */
  candidates?: string[];
  /** A system error code, e.g. ECONNREFUSED. */
  code?: string;
  /** The input that was named: a node id or title, and the input's name, as given. */
  target?: { node: string; input: string };
  /** The node a linked input comes from, and its inputs that hold values. */
  upstream?: { nodeId: string; inputs: string[] };
  /** Which option of applyPatches the failure is about, and for `sets` which entry (0-based). */
  option?: 'prompt' | 'seed' | 'promptInput' | 'seedInput' | 'sets';
  index?: number;
  /** A position in a text file (1-based). */
  line?: number;
  column?: number;
  /** The text around `column`, and where the column falls in it (1-based). */
  excerpt?: { text: string; column: number };
  /** A prompt variable as written, e.g. `__color__`. */
  variable?: string;
  /** A name looked up: a variable, a folder. */
  name?: string;
  /** A chain of variables leading to the failure. */
  chain?: string[];
  /** A count that matters: entries of a variable, attempts of a job, history entries. */
  count?: number;
  /** A size limit, in bytes or levels. */
  limit?: number;
  bytes?: number;
  expectedBytes?: number;
  /** Each server of a pool with why it is unavailable. */
  servers?: { server: string; reason: string }[];
  exceptionType?: string;
  /** A process id (e.g. the holder of a lock), and the host it runs on. */
  pid?: number;
  host?: string;
}

export interface PyrosErrorOptions<K extends ErrorKind = ErrorKind> {
  reason?: ErrorReason<K>;
  fields?: ErrorFields;
  cause?: unknown;
}

/** `kind, message, options`, where the reason must be one of that kind's. */
export type PyrosErrorArgs = { [K in ErrorKind]: [kind: K, message: string, options?: PyrosErrorOptions<K>] }[ErrorKind];

export class PyrosError extends Error {
  readonly kind: ErrorKind;
  /** Set by every error the library throws. */
  readonly reason: ErrorReason | undefined;
  readonly fields: Readonly<ErrorFields>;

  constructor(...[kind, message, options = {}]: PyrosErrorArgs) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PyrosError';
    this.kind = kind;
    this.reason = options.reason;
    // Fields left undefined are dropped, so that `Object.keys(fields)` lists only what is known.
    this.fields = Object.fromEntries(Object.entries(options.fields ?? {}).filter(([, value]) => value !== undefined));
  }
}

/** The arguments for another error of the same kind and reason as `error`. */
export function sameCaseArgs(error: PyrosError, message: string, options: Omit<PyrosErrorOptions, 'reason'> = {}): PyrosErrorArgs {
  return [error.kind, message, { reason: error.reason, ...options }] as PyrosErrorArgs;
}

export function isPyrosError(error: unknown): error is PyrosError {
  return error instanceof PyrosError;
}

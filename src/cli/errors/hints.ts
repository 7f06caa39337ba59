/** What to do about each library error, in the command line's words: flags, commands, variables. */
import type { ErrorFields, ErrorKind, ErrorReasons } from '../../errors.ts';
import { USAGE_HINTS } from './usage-hints.ts';

type Hint = (fields: Readonly<ErrorFields>) => string | undefined;

/** `pyros fetch ID`, with `--server` when the server matters (a pool has several). */
export function fetchCommand(promptId: string | undefined, server?: string): string {
  return `pyros fetch ${promptId ?? 'PROMPT_ID'}${server ? ` --server ${server}` : ''}`;
}

const startComfyUI: Hint = (f) =>
  `Is ComfyUI running at ${f.server ?? 'the server'}? Start it, or point pyros at it with --server URL (or COMFYUI_URL). To try pyros without a GPU, run \`pyros sim\`.`;
const CREDENTIALS = 'The server needs credentials: pass --header or COMFYUI_TOKEN (e.g. --header "Authorization: Bearer …"), or put user:password@ in the URL.';
const WRITABLE_FOLDER = 'Choose a folder you can write to with --output DIR.';

export const HINTS: { [K in ErrorKind]: Record<ErrorReasons[K], Hint> } = {
  usage: USAGE_HINTS,
  connection: {
    refused: startComfyUI,
    'host-not-found': () => 'Check the host name in --server.',
    unreachable: startComfyUI,
    reset: () => 'The server closed the connection; check that it is still running and try again.',
    tls: () => 'Fix the server certificate (or trust its CA with NODE_EXTRA_CA_CERTS=ca.pem), or pass --insecure to skip verification (not recommended).',
    'not-comfyui': () => 'Check the address and port in --server (ComfyUI listens on 8188 by default) and any path prefix of a reverse proxy.',
    unauthorized: () => CREDENTIALS,
    'upgrade-refused': () =>
      'Check the address and port in --server (ComfyUI listens on 8188 by default), any path prefix of a reverse proxy, and that the proxy forwards WebSockets.',
    'socket-closed': () => 'Check that the server is running and that a proxy forwards WebSocket upgrades.',
    'handshake-timeout': () => 'Check that the server is responsive and that a proxy forwards WebSocket upgrades (or raise --request-timeout).',
    'unexpected-status': () => 'Check the address in --server: it should point at ComfyUI itself.',
    unavailable: () => 'Start the servers (or check the addresses in --server), then run again.',
    'submission-unknown': (f) =>
      `The prompt may be queued there: once the server answers, \`pyros resume\` (with the run's --output folder) finds it by its id and finishes it, or \`${fetchCommand(f.promptId, f.server)}\` saves its outputs. Nothing was resubmitted, so it cannot run twice.`,
    failed: startComfyUI,
  },
  rejected: {
    validation: (f) =>
      f.count
        ? 'Fix the inputs listed above in the workflow (or with --set NODE.INPUT=VALUE) and run again.'
        : f.code === 'prompt_no_outputs'
          ? 'The server found no output node to run: add one (SaveImage, PreviewImage …), or check that --only names one.'
          : 'Fix the workflow as the message says and run again.',
  },
  execution: {
    'node-failed': () => 'The message above comes from the node itself; fix its inputs or models and run again (--verbose shows the traceback).',
  },
  interrupted: {
    'on-server': () => 'Someone (or another client) pressed interrupt or cleared the queue; run again to retry.',
  },
  cancelled: {
    'by-user': () => undefined,
    'server-not-told': (f) => `It may still run; check with \`${fetchCommand(f.promptId)}\` once the server is reachable.`,
    'pool-closed': (f) => (f.server ? `Its outputs can be fetched later with \`${fetchCommand(f.promptId, f.server)}\` if it still runs there.` : undefined),
  },
  output: {
    'disk-full': () => 'Free some space or choose another folder with --output; nothing partial was left behind.',
    'read-only': () => WRITABLE_FOLDER,
    'not-writable': () => WRITABLE_FOLDER,
    'not-a-folder': () => 'Pass a folder with --output DIR.',
    'write-failed': () => undefined,
    'file-missing': () => 'The file is no longer on the server (deleted, or a temporary preview that was cleaned up).',
    'download-refused': () => undefined,
  },
  timeout: {
    job: (f) => `Raise --timeout, or fetch its outputs later with \`${fetchCommand(f.promptId)}\` if it still runs.`,
    'job-not-accepted': () => 'Check that the server is responsive, or raise --timeout.',
    request: () => 'The server may be overloaded or a proxy may be holding the request; try again, or raise --request-timeout.',
  },
  lost: {
    forgotten: () => 'Run the command again (or use --retry N to resubmit automatically).',
    'not-queued': () => 'Nothing runs on the server. Run the command again, or use --retry N to resubmit automatically when this happens.',
    unknown: () => 'Check the id (every `pyros run` prints it first) and the --server; a restarted server forgets its history.',
    moved: () => undefined,
    'moved-too-often': () => 'Check the servers of the pool, then run the job again.',
  },
  server: {
    'http-5xx': () => "The server hit an internal error; its console log has the details. Try again once it's fixed.",
    'unexpected-status': () => undefined,
    malformed: () => 'This server may run a ComfyUI version pyros does not know; please report it.',
    'history-missing': (f) => `Try \`${fetchCommand(f.promptId)}\` in a moment to download its outputs.`,
    'download-cut': (f) => `The connection was cut; run again or use \`${fetchCommand(f.promptId)}\`.`,
  },
};

/** The hint of a library error of this kind and reason, or undefined when none helps. */
export function hintFor(kind: ErrorKind, reason: string | undefined, fields: Readonly<ErrorFields>): string | undefined {
  if (reason === undefined) return undefined;
  const hint = (HINTS[kind] as Record<string, Hint | undefined>)[reason];
  return hint?.(fields);
}

/**
 * The gallery page: one HTML document with its CSS and script, no framework and no build step.
 * It lists /api/outputs as a grid (newest first), filters it by prompt text, shows a detail view
 * with the full prompt and the `pyros run` command that makes the image again, and refreshes
 * the list whenever /api/events says the folder changed (polling if the event stream fails).
 * Everything from the sidecars is put in the page as text, never as HTML.
 */

const STYLE = `
:root { color-scheme: dark; --bg: #111418; --panel: #1b2027; --line: #2b323c; --text: #e6e9ee; --dim: #8b95a3; --accent: #5cc8ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
header { position: sticky; top: 0; z-index: 2; display: flex; gap: 16px; align-items: center; padding: 12px 20px; background: rgba(17,20,24,.94); border-bottom: 1px solid var(--line); backdrop-filter: blur(6px); }
header h1 { margin: 0; font-size: 16px; font-weight: 600; white-space: nowrap; }
header .dir { color: var(--dim); font: 12px ui-monospace, monospace; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#search { flex: 1; max-width: 420px; margin-left: auto; padding: 7px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--text); font: inherit; }
#count { color: var(--dim); white-space: nowrap; }
#live { width: 8px; height: 8px; border-radius: 50%; background: #555; flex: none; }
#live.on { background: #3ddc84; }
main { padding: 20px; }
#grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 14px; }
.card { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; cursor: pointer; transition: border-color .15s; }
.card:hover, .card:focus-visible { border-color: var(--accent); outline: none; }
.card.new { animation: arrive 1.6s ease-out; }
@keyframes arrive { from { box-shadow: 0 0 0 3px var(--accent); } to { box-shadow: 0 0 0 0 transparent; } }
.thumb { display: block; width: 100%; aspect-ratio: 1; object-fit: cover; background: #0b0d10; }
.thumb.placeholder { display: flex; align-items: center; justify-content: center; color: var(--dim); font-size: 12px; }
.card figcaption { padding: 8px 10px; }
.card .prompt { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; min-height: 2.9em; }
.card .meta { margin-top: 4px; color: var(--dim); font-size: 12px; display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 8px; }
.card .meta span { white-space: nowrap; }
#empty { color: var(--dim); padding: 40px; text-align: center; }
dialog { width: min(1100px, 94vw); max-height: 92vh; padding: 0; border: 1px solid var(--line); border-radius: 10px; background: var(--panel); color: var(--text); }
dialog::backdrop { background: rgba(0,0,0,.7); }
.detail { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); max-height: 92vh; }
.detail .media { background: #0b0d10; display: flex; align-items: center; justify-content: center; min-height: 300px; }
.detail .media img, .detail .media video { max-width: 100%; max-height: 92vh; display: block; }
.detail .info { padding: 16px 18px; overflow: auto; }
.detail h2 { margin: 0 0 8px; font-size: 13px; color: var(--dim); font-weight: 500; text-transform: uppercase; letter-spacing: .04em; }
#detail-prompt { white-space: pre-wrap; word-break: break-word; margin: 0 0 14px; font-size: 15px; }
#detail-template { white-space: pre-wrap; color: var(--dim); margin: -8px 0 14px; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0 0 14px; font-size: 13px; }
dt { color: var(--dim); }
dd { margin: 0; word-break: break-all; font-family: ui-monospace, monospace; font-size: 12px; }
#detail-command { white-space: pre-wrap; word-break: break-all; background: #0b0d10; border: 1px solid var(--line); border-radius: 6px; padding: 10px; font: 12px/1.5 ui-monospace, monospace; margin: 0 0 8px; }
.actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
button, .button { padding: 7px 12px; border-radius: 6px; border: 1px solid var(--line); background: #252c35; color: var(--text); font: inherit; cursor: pointer; text-decoration: none; }
button:hover, .button:hover { border-color: var(--accent); }
#copied { color: #3ddc84; font-size: 12px; }
#close { position: absolute; top: 8px; right: 10px; }
@media (max-width: 760px) { .detail { grid-template-columns: 1fr; } }
`;

const SCRIPT = `
'use strict';
const state = { items: [], version: -1, query: '', open: null, seen: new Set(), first: true };
const $ = (id) => document.getElementById(id);
const grid = $('grid'), empty = $('empty'), count = $('count'), search = $('search'), dialog = $('detail');

function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children || []) if (child) node.append(child);
  return node;
}

function formatBytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1048576).toFixed(1) + ' MiB';
}

function when(iso, short) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return short ? d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : d.toLocaleString();
}

function matches(item, words) {
  const hay = ((item.prompt || '') + '\\n' + (item.template || '') + '\\n' + item.file).toLowerCase();
  return words.every((w) => hay.includes(w));
}

function visible() {
  const words = state.query.toLowerCase().split(/\\s+/).filter(Boolean);
  return words.length ? state.items.filter((item) => matches(item, words)) : state.items;
}

function thumb(item) {
  if (item.kind === 'image') return el('img', { class: 'thumb', src: item.url, alt: item.prompt || item.file, loading: 'lazy', decoding: 'async' });
  if (item.kind === 'video') return el('video', { class: 'thumb', src: item.url, muted: true, preload: 'metadata' });
  return el('div', { class: 'thumb placeholder', text: item.kind + ' · ' + item.file });
}

function card(item) {
  const fresh = !state.first && !state.seen.has(item.file);
  const node = el('figure', { class: 'card' + (fresh ? ' new' : ''), tabIndex: 0, 'data-file': item.file }, [
    thumb(item),
    el('figcaption', {}, [
      el('div', { class: 'prompt', text: item.prompt || item.file }),
      el('div', { class: 'meta' }, [el('span', { text: item.seed !== undefined ? 'seed ' + item.seed : '' }), el('span', { text: when(item.savedAt, true) })]),
    ]),
  ]);
  node.addEventListener('click', () => openDetail(item.file));
  node.addEventListener('keydown', (event) => { if (event.key === 'Enter') openDetail(item.file); });
  return node;
}

function render() {
  const items = visible();
  grid.replaceChildren(...items.map(card));
  for (const item of state.items) state.seen.add(item.file);
  state.first = false;
  count.textContent = items.length === state.items.length ? items.length + ' outputs' : items.length + ' of ' + state.items.length;
  empty.hidden = items.length > 0;
  empty.textContent = state.items.length ? 'Nothing matches “' + state.query + '”.' : 'No outputs yet: they appear here as they are saved.';
}

function openDetail(file) {
  const item = state.items.find((i) => i.file === file);
  if (!item) return;
  state.open = file;
  const media = $('detail-media');
  media.replaceChildren(item.kind === 'image' ? el('img', { src: item.url, alt: item.prompt || item.file })
    : item.kind === 'video' ? el('video', { src: item.url, controls: true, autoplay: true, loop: true })
    : item.kind === 'audio' ? el('audio', { src: item.url, controls: true })
    : el('a', { href: item.url, text: item.file, className: 'button' }));
  $('detail-prompt').textContent = item.prompt || '(no prompt recorded)';
  $('detail-template').textContent = item.template ? 'written as: ' + item.template : '';
  $('detail-template').hidden = !item.template;
  const rows = [['seed', item.seed], ['server', item.server], ['workflow', item.workflowFile], ['prompt id', item.promptId], ['saved', when(item.savedAt)], ['file', item.file + ' · ' + formatBytes(item.bytes)], ['took', item.totalMs !== undefined ? (item.totalMs / 1000).toFixed(1) + ' s' : undefined]];
  $('detail-meta').replaceChildren(...rows.filter((r) => r[1] !== undefined && r[1] !== '').flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
  $('detail-command').textContent = item.command || '(no sidecar: the command is not known)';
  $('copy-command').disabled = !item.command;
  $('copied').textContent = '';
  $('detail-open').href = item.url;
  if (!dialog.open) dialog.showModal();
}

async function copyCommand() {
  const text = $('detail-command').textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el('textarea', { value: text });
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  $('copied').textContent = 'Copied';
}

async function load() {
  const response = await fetch('/api/outputs', { cache: 'no-store' });
  if (!response.ok) return;
  const data = await response.json();
  state.items = data.items;
  state.version = data.version;
  render();
}

function step(delta) {
  const items = visible();
  const at = items.findIndex((i) => i.file === state.open);
  const next = items[at + delta];
  if (next) openDetail(next.file);
}

let polling = null;
function listen() {
  if (!window.EventSource) return poll();
  const source = new EventSource('/api/events');
  let failures = 0;
  source.addEventListener('outputs', (event) => {
    failures = 0;
    $('live').className = 'on';
    const info = JSON.parse(event.data);
    if (info.version !== state.version) load();
  });
  source.onerror = () => {
    $('live').className = '';
    if (++failures >= 5) { source.close(); poll(); }
  };
}
function poll() {
  if (polling) return;
  polling = setInterval(load, 5000);
}

search.addEventListener('input', () => { state.query = search.value; render(); });
$('copy-command').addEventListener('click', copyCommand);
$('close').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => { state.open = null; });
dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });
document.addEventListener('keydown', (event) => {
  if (!dialog.open) { if (event.key === '/' && document.activeElement !== search) { event.preventDefault(); search.focus(); } return; }
  if (event.key === 'ArrowRight') step(1);
  if (event.key === 'ArrowLeft') step(-1);
});
load().then(listen);
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function galleryPage(options: { dir: string; nonce: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pyros gallery · ${escapeHtml(options.dir)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <span id="live" title="live updates"></span>
  <h1>pyros gallery</h1>
  <span class="dir">${escapeHtml(options.dir)}</span>
  <input id="search" type="search" placeholder="Search prompts  ( / )" autocomplete="off" spellcheck="false">
  <span id="count"></span>
</header>
<main>
  <div id="grid"></div>
  <p id="empty" hidden></p>
</main>
<dialog id="detail">
  <button id="close" aria-label="Close">✕</button>
  <div class="detail">
    <div class="media" id="detail-media"></div>
    <div class="info">
      <h2>Prompt</h2>
      <p id="detail-prompt"></p>
      <p id="detail-template" hidden></p>
      <dl id="detail-meta"></dl>
      <h2>Make it again</h2>
      <pre id="detail-command"></pre>
      <div class="actions">
        <button id="copy-command" type="button">Copy command</button>
        <a id="detail-open" class="button" target="_blank" rel="noopener">Open file</a>
        <span id="copied"></span>
      </div>
    </div>
  </div>
</dialog>
<script nonce="${options.nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

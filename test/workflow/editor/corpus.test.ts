/**
 * Every editor workflow of the corpus converted and compared with the prompt ComfyUI's frontend
 * produced for it. The only normalisation is the order of the top-level node ids, which follows the
 * editor's execution order (the server ignores it); the order of each node's inputs is compared as is.
 * Titles of untitled nodes come with the editor (its English names), so they are passed in. Pairs
 * that use node classes the server lacks bring those classes (and the editor's titles for them).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertEditorWorkflow } from '../../../src/workflow/editor/index.ts';
import { frontendTitles, loadObjectInfo, loadPairs, pairObjectInfo, pairTitles, type Pair } from './corpus.ts';

const objectInfo = loadObjectInfo();
const displayNames = frontendTitles();
const pairs = loadPairs();
const withPrompt = pairs.filter((pair): pair is Pair & { prompt: NonNullable<Pair['prompt']> } => pair.prompt !== null);

function sortedTop(prompt: Record<string, unknown>): [string, unknown][] {
  return Object.keys(prompt).sort().map((id) => [id, prompt[id]]);
}

function convert(pair: Pair) {
  return convertEditorWorkflow(pair.workflow, pairObjectInfo(pair, objectInfo), { displayNames: pairTitles(pair, displayNames) });
}

test('the corpus has a pair for every feature the conversion covers', () => {
  const features = new Set(pairs.flatMap((pair) => pair.features));
  for (const feature of ['widget-order', 'control-after-generate', 'control-before-generate', 'old-seed-toggle', 'converted-widgets', 'wrapped-values', 'dynamic-prompts',
    'primitive-node', 'new-primitives', 'reroute-node', 'link-reroutes', 'floating-links', 'bypass', 'mute', 'notes', 'group-nodes', 'group-node-combos',
    'subgraphs', 'nested-subgraphs', 'promoted-widgets', 'proxy-widgets', 'duplicate-node-ids', 'missing-links', 'titles', 'text-replacements',
    'real-world-template', 'extra-node-classes']) {
    assert.ok(features.has(feature), `no pair exercises ${feature}`);
  }
  for (const pair of pairs) assert.match(pair.frontend_version, /^\d+\.\d+\.\d+$/, `${pair.file} records the frontend version`);
});

test('every public workflow names the repository, path and commit it was taken from', () => {
  const published = pairs.filter((pair) => pair.source !== 'generated');
  assert.ok(published.length >= 20, `public pairs: ${published.length}`);
  for (const pair of published) {
    assert.ok(typeof pair.source === 'object', `${pair.file}: source`);
    assert.match(pair.source.repository, /^[\w.-]+\/[\w.-]+$/, `${pair.file}: repository`);
    assert.match(pair.source.commit, /^[0-9a-f]{40}$/, `${pair.file}: commit`);
    assert.equal(pair.source.url, `https://github.com/${pair.source.repository}/blob/${pair.source.commit}/${pair.source.path}`, `${pair.file}: url`);
  }
});

for (const pair of withPrompt) {
  test(`${pair.name}: same prompt as the editor`, () => {
    const { prompt } = convert(pair);
    assert.deepEqual(sortedTop(prompt), sortedTop(pair.prompt));
  });
}

test('score by feature (pairs exact out of all)', () => {
  const byFeature = new Map<string, { exact: number; total: number }>();
  let exact = 0;
  let exactOrder = 0;
  for (const pair of withPrompt) {
    const { prompt } = convert(pair);
    const same = JSON.stringify(sortedTop(prompt)) === JSON.stringify(sortedTop(pair.prompt));
    if (same) exact++;
    if (JSON.stringify(prompt) === JSON.stringify(pair.prompt)) exactOrder++;
    for (const feature of pair.features) {
      const score = byFeature.get(feature) ?? { exact: 0, total: 0 };
      score.total++;
      if (same) score.exact++;
      byFeature.set(feature, score);
    }
  }
  const lines = [...byFeature].sort(([a], [b]) => a.localeCompare(b)).map(([feature, { exact: e, total }]) => `  ${feature.padEnd(24)} ${e}/${total}`);
  console.log(`editor → API conversion: ${exact}/${withPrompt.length} pairs exact (${exactOrder} with the same key order too)\n${lines.join('\n')}`);
  assert.equal(exact, withPrompt.length);
});

test('without the editor’s titles, untitled nodes take the server’s display name and titled nodes keep theirs', () => {
  const pair = withPrompt.find((candidate) => candidate.name === 'widgets_basic')!;
  const { prompt } = convertEditorWorkflow(pair.workflow, objectInfo);
  assert.equal(prompt['22']!._meta!.title, 'Composite (custom title)');
  assert.equal(prompt['20']!._meta!.title, (objectInfo.EmptyImage as { display_name: string }).display_name);
  assert.equal(prompt['4']!._meta!.title, 'KSampler');
  assert.deepEqual(prompt['20']!.inputs, pair.prompt['20']!.inputs);
});

/** Bad input: not a workflow, loops, self-containing subgraphs, node classes the server lacks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPyrosError } from '../../../src/errors.ts';
import { convertEditorWorkflow, MissingNodeClassesError } from '../../../src/workflow/editor/index.ts';
import { loadObjectInfo, loadPairs } from './corpus.ts';

const objectInfo = loadObjectInfo();

function usageError(run: () => unknown, pattern: RegExp): Error {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(isPyrosError(caught), `expected a PyrosError, got ${String(caught)}`);
  assert.equal(caught.kind, 'usage');
  assert.match(caught.message, pattern);
  assert.doesNotMatch(caught.message, /--[a-z]/, 'no CLI flag names in library messages');
  assert.ok(caught.reason, 'a reason');
  return caught;
}

const blur = (id: number, input: number | null, outputs: number[], mode = 0) => ({
  id, type: 'ImageBlur', mode, inputs: [{ name: 'image', type: 'IMAGE', link: input }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: outputs }], widgets_values: [1, 1],
});

test('JSON that is neither format is a usage error; an API prompt is told apart', () => {
  for (const input of [null, 42, 'text', [], { foo: 1 }, { nodes: [{ id: 1 }] }]) usageError(() => convertEditorWorkflow(input, objectInfo), /neither an editor workflow nor an API workflow/);
  const prompt = loadPairs().find((pair) => pair.prompt)!.prompt;
  usageError(() => convertEditorWorkflow(prompt, objectInfo), /already in API format/);
  usageError(() => convertEditorWorkflow({ nodes: [] }, null), /node definitions/);
});

test('a loop of links between nodes is a usage error naming the nodes', () => {
  const workflow = { nodes: [blur(1, 2, [1]), blur(2, 1, [2])], links: [[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 1, 0, 'IMAGE']] };
  usageError(() => convertEditorWorkflow(workflow, objectInfo), /loop: (1 → 2 → 1|2 → 1 → 2)/);
});

test('a loop through reroutes or bypassed nodes is a usage error', () => {
  const reroute = (id: number, input: number, outputs: number[]) => ({ id, type: 'Reroute', inputs: [{ name: '', type: '*', link: input }], outputs: [{ name: '', type: '*', links: outputs }] });
  const workflow = {
    nodes: [reroute(1, 2, [1, 3]), reroute(2, 1, [2]), blur(3, 3, [])],
    links: [[1, 1, 0, 2, 0, '*'], [2, 2, 0, 1, 0, '*'], [3, 1, 0, 3, 0, 'IMAGE']],
  };
  usageError(() => convertEditorWorkflow(workflow, objectInfo), /go round in a loop/);
  const bypassed = { nodes: [blur(1, 2, [1], 4), blur(2, 1, [2, 3], 4), blur(3, 3, [])], links: [[1, 1, 0, 2, 0, 'IMAGE'], [2, 2, 0, 1, 0, 'IMAGE'], [3, 2, 0, 3, 0, 'IMAGE']] };
  usageError(() => convertEditorWorkflow(bypassed, objectInfo), /go round in a loop/);
});

test('a subgraph that contains itself is a usage error', () => {
  const id = '11111111-2222-3333-4444-555555555555';
  const workflow = {
    nodes: [{ id: 1, type: id, inputs: [], outputs: [] }],
    links: [],
    definitions: { subgraphs: [{ id, name: 'Recursive', inputs: [], outputs: [], nodes: [{ id: 1, type: id, inputs: [], outputs: [] }, blur(2, null, [])], links: [] }] },
  };
  usageError(() => convertEditorWorkflow(workflow, objectInfo), /Subgraph "Recursive" contains itself/);
  const outer = '99999999-2222-3333-4444-555555555555';
  const indirect = {
    nodes: [{ id: 5, type: outer, inputs: [], outputs: [] }],
    links: [],
    definitions: { subgraphs: [
      { id: outer, name: 'Outer', nodes: [{ id: 7, type: id }], links: [] },
      { id, name: 'Inner', nodes: [{ id: 8, type: outer }], links: [] },
    ] },
  };
  usageError(() => convertEditorWorkflow(indirect, objectInfo), /Subgraph "Outer" contains itself \(node 5:7:8\)/);
});

test('node classes the server lacks: one error listing each class, its nodes and its package', () => {
  const id = 'aaaaaaaa-2222-3333-4444-555555555555';
  const workflow = {
    nodes: [
      { id: 1, type: 'FancySampler', title: 'Sampler A', properties: { cnr_id: 'comfyui-fancy', ver: '1.0.2' } },
      { id: 2, type: 'FancySampler', properties: { cnr_id: 'comfyui-fancy' } },
      { id: 3, type: 'OddLoader', properties: { aux_id: 'someone/odd-nodes' } },
      { id: 4, type: 'Unlisted' },
      { id: 5, type: 'MutedMissing', mode: 2 },
      { id: 6, type: 'BypassedMissing', mode: 4 },
      { id: 7, type: id },
    ],
    links: [],
    definitions: { subgraphs: [{ id, name: 'S', nodes: [{ id: 3, type: 'OddLoader', properties: { aux_id: 'someone/odd-nodes' } }], links: [] }] },
  };
  const error = usageError(() => convertEditorWorkflow(workflow, objectInfo), /uses 3 node classes the server does not have/);
  assert.ok(error instanceof MissingNodeClassesError);
  assert.deepEqual(error.missing, [
    { classType: 'FancySampler', nodes: [{ id: '1', title: 'Sampler A' }, { id: '2' }], packages: ['comfyui-fancy'] },
    // The inner node's id 3 is taken at the root, so the editor gives it the next free id, 8.
    { classType: 'OddLoader', nodes: [{ id: '3' }, { id: '7:8' }], packages: ['someone/odd-nodes'] },
    { classType: 'Unlisted', nodes: [{ id: '4' }], packages: [] },
  ]);
  assert.match(error.message, /FancySampler: nodes 1 "Sampler A", 2 — provided by comfyui-fancy/);
  assert.match(error.message, /Unlisted: node 4$/m);
});

test('a legacy group node with a class the server lacks names that class, inside the subgraph it becomes', () => {
  const workflow = {
    last_node_id: 2,
    nodes: [blur(1, null, [1]), { id: 2, type: 'workflow>Filters', inputs: [{ name: 'image', type: 'IMAGE', link: 1 }], outputs: [], widgets_values: [3, 0.5] }],
    links: [[1, 1, 0, 2, 0, 'IMAGE']],
    extra: {
      groupNodes: {
        Filters: {
          nodes: [
            { ...blur(-1, null, []), index: 0 },
            { id: -1, type: 'FancyFilter', inputs: [{ name: 'image', type: 'IMAGE', link: null }], outputs: [], properties: { cnr_id: 'comfyui-fancy' }, index: 1 },
          ],
          links: [[0, 0, 1, 0, 1, 'IMAGE']],
          external: [],
        },
      },
    },
  };
  const error = usageError(() => convertEditorWorkflow(workflow, objectInfo), /uses a node class the server does not have/);
  assert.ok(error instanceof MissingNodeClassesError);
  // The inner nodes take ids 3 and 4, the subgraph instance 5.
  assert.deepEqual(error.missing, [{ classType: 'FancyFilter', nodes: [{ id: '5:4' }], packages: ['comfyui-fancy'] }]);
});

/**
 * Speed of the editor → API conversion: a workflow of about 1,000 nodes (chains with primitives,
 * reroutes, bypassed and muted nodes, and subgraph instances) converted from parsed node definitions.
 *
 *   node --import tsx bench/convert.ts            # prints ms per conversion
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { convertEditorWorkflow } from '../src/workflow/editor/index.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/editor/', import.meta.url));

interface BenchResult {
  nodes: number;
  promptNodes: number;
  rounds: number;
  msPerConversion: number;
}

/** Builds a workflow of at least `size` editor nodes out of repeated segments. */
export function buildLargeWorkflow(size = 1000): { workflow: Record<string, unknown>; nodeCount: number } {
  const sub = JSON.parse(readFileSync(FIXTURES + 'subgraph_promoted_widget.json', 'utf8')).workflow;
  const definition = sub.definitions.subgraphs[0];
  const nodes: Record<string, unknown>[] = [];
  const links: unknown[] = [];
  let nodeId = 0;
  let linkId = 0;
  const link = (from: number, fromSlot: number, to: number, toSlot: number, type: string) => {
    links.push([++linkId, from, fromSlot, to, toSlot, type]);
    return linkId;
  };
  while (nodes.length < size) {
    const image = ++nodeId;
    const primitive = ++nodeId;
    const blur = ++nodeId;
    const reroute = ++nodeId;
    const invert = ++nodeId;
    const instance = ++nodeId;
    const save = ++nodeId;
    const toBlur = link(image, 0, blur, 0, 'IMAGE');
    const toRadius = link(primitive, 0, blur, 1, 'INT');
    const toReroute = link(blur, 0, reroute, 0, 'IMAGE');
    const toInvert = link(reroute, 0, invert, 0, 'IMAGE');
    const toInstance = link(invert, 0, instance, 0, 'IMAGE');
    const toSave = link(instance, 0, save, 0, 'IMAGE');
    nodes.push(
      { id: image, type: 'EmptyImage', outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [toBlur] }], widgets_values: [64, 64, 1, 0] },
      { id: primitive, type: 'PrimitiveNode', outputs: [{ name: 'INT', type: 'INT', links: [toRadius], widget: { name: 'blur_radius' } }], widgets_values: [nodeId % 30 + 1, 'fixed'] },
      { id: blur, type: 'ImageBlur', inputs: [{ name: 'image', type: 'IMAGE', link: toBlur }, { name: 'blur_radius', type: 'INT', link: toRadius, widget: { name: 'blur_radius' } }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [toReroute] }], widgets_values: [1, 1] },
      { id: reroute, type: 'Reroute', inputs: [{ name: '', type: '*', link: toReroute }], outputs: [{ name: '', type: 'IMAGE', links: [toInvert] }] },
      { id: invert, type: 'ImageInvert', mode: nodeId % 3 === 0 ? 4 : 0, inputs: [{ name: 'image', type: 'IMAGE', link: toInvert }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [toInstance] }] },
      { id: instance, type: definition.id, inputs: [{ name: 'image', type: 'IMAGE', link: toInstance }, { name: 'blur_radius', type: 'INT', link: null, widget: { name: 'blur_radius' } }, { name: 'sigma', type: 'FLOAT', link: null, widget: { name: 'sigma' } }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [toSave] }], widgets_values: [3, 0.5] },
      { id: save, type: 'SaveImage', mode: nodeId % 5 === 0 ? 2 : 0, inputs: [{ name: 'images', type: 'IMAGE', link: toSave }], widgets_values: [`seg_${nodeId}`] },
    );
  }
  // Each subgraph instance holds two more nodes.
  const nodeCount = nodes.length + 2 * nodes.filter((node) => node.type === definition.id).length;
  return { workflow: { last_node_id: nodeId, last_link_id: linkId, nodes, links, definitions: { subgraphs: [definition] }, version: 0.4 }, nodeCount };
}

export function benchConvert(options: { size?: number; rounds?: number } = {}): BenchResult {
  const objectInfo: Record<string, unknown> = JSON.parse(readFileSync(FIXTURES + 'object_info.json', 'utf8'));
  const { workflow, nodeCount } = buildLargeWorkflow(options.size ?? 1000);
  const rounds = options.rounds ?? 50;
  let promptNodes = 0;
  for (let warm = 0; warm < 5; warm++) promptNodes = Object.keys(convertEditorWorkflow(workflow, objectInfo).prompt).length;
  const start = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) convertEditorWorkflow(workflow, objectInfo);
  const ms = Number(process.hrtime.bigint() - start) / 1e6 / rounds;
  return { nodes: nodeCount, promptNodes, rounds, msPerConversion: Math.round(ms * 100) / 100 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = benchConvert();
  console.log(`editor → API conversion: ${result.msPerConversion} ms for ${result.nodes} nodes (${result.promptNodes} in the prompt), mean of ${result.rounds}`);
}

/** The shapes of ComfyUI's editor ("UI") workflow format, read loosely: files from many editor versions differ. */

export type NodeId = number | string;

export interface EditorSlotInput {
  name: string;
  type?: unknown;
  link?: number | null;
  widget?: { name: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface EditorSlotOutput {
  name?: string;
  type?: unknown;
  links?: number[] | null;
  widget?: { name: string };
  [key: string]: unknown;
}

export interface EditorNode {
  id: NodeId;
  type: string;
  mode?: number;
  title?: string;
  inputs?: EditorSlotInput[];
  outputs?: EditorSlotOutput[];
  properties?: Record<string, unknown>;
  widgets_values?: unknown[] | Record<string, unknown>;
  [key: string]: unknown;
}

/** A link as the editor stores it at the top level (array) or in subgraphs and schema 1 (object). */
export type EditorLinkArray = [number, NodeId, number, NodeId, number, unknown, ...unknown[]];
export interface EditorLinkObject {
  id: number;
  origin_id: NodeId;
  origin_slot: number;
  target_id: NodeId;
  target_slot: number;
  type?: unknown;
  parentId?: number;
}

export interface SubgraphSlot {
  name: string;
  type?: unknown;
  linkIds?: number[];
  [key: string]: unknown;
}

export interface SubgraphDefinition {
  id: string;
  name?: string;
  inputs?: SubgraphSlot[];
  outputs?: SubgraphSlot[];
  nodes?: EditorNode[];
  links?: (EditorLinkArray | EditorLinkObject)[];
  definitions?: { subgraphs?: SubgraphDefinition[] };
  [key: string]: unknown;
}

export interface EditorWorkflow {
  nodes: EditorNode[];
  links?: (EditorLinkArray | EditorLinkObject)[];
  groups?: unknown[];
  extra?: { groupNodes?: Record<string, LegacyGroupNodeDefinition>; [key: string]: unknown };
  definitions?: { subgraphs?: SubgraphDefinition[] };
  last_node_id?: number;
  state?: { lastNodeId?: number };
  [key: string]: unknown;
}

/** `extra.groupNodes[name]`: the legacy "group node" (before subgraphs). Links are [from, fromSlot, to, toSlot, ?, type] by node index. */
export interface LegacyGroupNodeDefinition {
  nodes: (Omit<EditorNode, 'id'> & { index?: number })[];
  links?: [number | null, number, number, number, ...unknown[]][];
  external?: [number, number, unknown][];
  [key: string]: unknown;
}

/** A workflow in ComfyUI's API format (the graph POST /prompt takes): node id → node. */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export type ApiWorkflow = Record<string, ApiNode>;

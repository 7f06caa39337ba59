/**
 * Schemas of every WebSocket text message ComfyUI sends (see test/fixtures/traffic).
 * Objects are loose: fields a newer server adds pass through untouched.
 */
import * as v from 'valibot';

const promptId = v.string();
const nodeId = v.string();

const outputItem = v.looseObject({
  filename: v.string(),
  subfolder: v.optional(v.string(), ''),
  type: v.optional(v.string(), 'output'),
});

export const schemas = {
  status: v.looseObject({
    status: v.looseObject({ exec_info: v.looseObject({ queue_remaining: v.number() }) }),
    sid: v.optional(v.string()),
  }),
  feature_flags: v.record(v.string(), v.unknown()),
  execution_start: v.looseObject({ prompt_id: promptId, timestamp: v.optional(v.number()) }),
  execution_cached: v.looseObject({
    nodes: v.array(nodeId),
    prompt_id: promptId,
    timestamp: v.optional(v.number()),
  }),
  executing: v.looseObject({
    node: v.nullable(nodeId),
    display_node: v.optional(v.nullable(nodeId)),
    prompt_id: v.optional(promptId),
  }),
  progress: v.looseObject({
    value: v.number(),
    max: v.number(),
    prompt_id: v.optional(v.nullable(promptId)),
    node: v.optional(v.nullable(nodeId)),
  }),
  progress_state: v.looseObject({
    prompt_id: promptId,
    nodes: v.record(
      v.string(),
      v.looseObject({
        value: v.number(),
        max: v.number(),
        state: v.string(),
        node_id: v.optional(nodeId),
        display_node_id: v.optional(v.nullable(nodeId)),
        parent_node_id: v.optional(v.nullable(nodeId)),
        real_node_id: v.optional(v.nullable(nodeId)),
      }),
    ),
  }),
  executed: v.looseObject({
    node: nodeId,
    display_node: v.optional(v.nullable(nodeId)),
    output: v.nullable(v.record(v.string(), v.unknown())),
    prompt_id: promptId,
  }),
  execution_success: v.looseObject({ prompt_id: promptId, timestamp: v.optional(v.number()) }),
  execution_error: v.looseObject({
    prompt_id: promptId,
    node_id: v.optional(v.nullable(nodeId)),
    node_type: v.optional(v.nullable(v.string())),
    executed: v.optional(v.array(nodeId)),
    exception_message: v.optional(v.string(), ''),
    exception_type: v.optional(v.string(), ''),
    traceback: v.optional(v.array(v.string()), []),
    timestamp: v.optional(v.number()),
  }),
  execution_interrupted: v.looseObject({
    prompt_id: promptId,
    node_id: v.optional(v.nullable(nodeId)),
    node_type: v.optional(v.nullable(v.string())),
    executed: v.optional(v.array(nodeId)),
    timestamp: v.optional(v.number()),
  }),
} as const;

export type KnownType = keyof typeof schemas;
export type MessageData<T extends KnownType> = v.InferOutput<(typeof schemas)[T]>;

/** A parsed text message: one of the known types with typed data, or an unknown type untouched. */
export type ServerMessage =
  | { [T in KnownType]: { type: T; data: MessageData<T> } }[KnownType]
  | { type: 'unknown'; originalType: string; data: unknown };

export type OutputItem = v.InferOutput<typeof outputItem>;
export const outputItemSchema = outputItem;

export class MalformedMessageError extends Error {}

function isKnownType(type: string): type is KnownType {
  return Object.hasOwn(schemas, type);
}

/** A text frame read as JSON, not yet checked: its type, data, and the prompt it names (if any). */
export interface RawMessage {
  type: string;
  data: unknown;
  promptId: unknown;
}

/** Reads one text frame as JSON. Throws MalformedMessageError when it is not a message. */
export function readServerMessage(text: string): RawMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MalformedMessageError(`not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
    throw new MalformedMessageError(`no "type" field: ${text.slice(0, 80)}`);
  }
  const { type, data } = raw as { type: string; data?: unknown };
  return { type, data, promptId: typeof data === 'object' && data !== null ? (data as { prompt_id?: unknown }).prompt_id : undefined };
}

/** Checks a message read by `readServerMessage` against the schema of its type. */
export function checkServerMessage(raw: RawMessage): ServerMessage {
  const { type, data } = raw;
  if (!isKnownType(type)) return { type: 'unknown', originalType: type, data };
  const result = v.safeParse(schemas[type], data);
  if (!result.success) {
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new MalformedMessageError(`${type}: ${issue.message}${path ? ` at data.${path}` : ''}`);
  }
  return { type, data: result.output } as ServerMessage;
}

/** Parses one text frame. Throws MalformedMessageError when it is not a well-formed message. */
export function parseServerMessage(text: string): ServerMessage {
  return checkServerMessage(readServerMessage(text));
}

/** Schemas of the HTTP bodies pyros reads (shapes recorded in test/fixtures/traffic). */
import * as v from 'valibot';

export const promptAccepted = v.looseObject({
  prompt_id: v.string(),
  number: v.optional(v.number()),
  node_errors: v.optional(v.record(v.string(), v.unknown()), {}),
});

const validationError = v.looseObject({
  type: v.optional(v.string(), ''),
  message: v.optional(v.string(), ''),
  details: v.optional(v.unknown(), ''),
  extra_info: v.optional(v.unknown()),
});

export const nodeError = v.looseObject({
  errors: v.optional(v.array(validationError), []),
  dependent_outputs: v.optional(v.array(v.unknown()), []),
  class_type: v.optional(v.string(), ''),
});

export const promptRejected = v.looseObject({
  error: v.union([validationError, v.string()]),
  node_errors: v.optional(v.record(v.string(), nodeError), {}),
});

export const historyEntry = v.looseObject({
  prompt: v.optional(v.array(v.unknown())),
  outputs: v.optional(v.record(v.string(), v.nullable(v.record(v.string(), v.unknown()))), {}),
  status: v.optional(
    v.looseObject({
      status_str: v.optional(v.string()),
      completed: v.optional(v.boolean()),
      messages: v.optional(v.array(v.unknown()), []),
    }),
  ),
  meta: v.optional(v.record(v.string(), v.unknown())),
});

export const queueItem = v.pipe(v.array(v.unknown()), v.minLength(2));
export const queue = v.looseObject({
  queue_running: v.optional(v.array(queueItem), []),
  queue_pending: v.optional(v.array(queueItem), []),
});

export type PromptAccepted = v.InferOutput<typeof promptAccepted>;
export type NodeError = v.InferOutput<typeof nodeError>;
export type ValidationError = v.InferOutput<typeof validationError>;
export type HistoryEntry = v.InferOutput<typeof historyEntry>;

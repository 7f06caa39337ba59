/**
 * POST /prompt validation, reproducing ComfyUI's validate_prompt / validate_inputs: the walk
 * from each output node, the error objects, and their quirks (constant inputs are converted in
 * place; a node's errors are reported for every failing output validated after it).
 */
import type { Catalogue } from './catalogue/catalogue.ts';
import type { InputOptions, InputType } from './catalogue/types.ts';
import type { NodeEnvironment } from './nodes/types.ts';
import type { Prompt, PromptNode } from './prompt.ts';
import { orderedKeys } from './prompt-order.ts';
import { PyException, pyBool, pyFloat, pyFloatRepr, pyInt, pyRepr, pyStr } from './python.ts';

export interface ErrorReport {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrorReport {
  errors: ErrorReport[];
  dependent_outputs: string[];
  class_type: string;
}

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeErrorReport> }
  | { ok: false; error: ErrorReport; nodeErrors: Record<string, NodeErrorReport> };

type Verdict = { valid: boolean; errors: ErrorReport[] };

/** A Python exception escaping validate_inputs, with the frames it passed through. */
class ValidationException extends Error {
  readonly pyType: string;
  readonly frames: string[];

  constructor(pyType: string, message: string, frames: string[]) {
    super(message);
    this.pyType = pyType;
    this.frames = frames;
  }
}

const EXECUTION_PY = '/opt/comfyui/ComfyUI/execution.py';
const FRAME_RECURSE = `  File "${EXECUTION_PY}", line 808, in validate_inputs\n    r = await validate_inputs(prompt_id, prompt, o_id, validated)\n        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n`;
const FRAME_LINKED_NODE = `  File "${EXECUTION_PY}", line 788, in validate_inputs\n    o_class_type = prompt[o_id]['class_type']\n                   ~~~~~~^^^^^^\n`;
const FRAME_RETURN_TYPE = `  File "${EXECUTION_PY}", line 790, in validate_inputs\n    received_type = r[val[1]]\n                    ~^^^^^^^^\n`;
const FRAME_INPUTS = `  File "${EXECUTION_PY}", line 743, in validate_inputs\n    inputs = prompt[unique_id]['inputs']\n             ~~~~~~~~~~~~~~~~~^^^^^^^^^^\n`;
const FRAME_VALIDATE_PROMPT = `  File "${EXECUTION_PY}", line 1044, in validate_prompt\n    m = await validate_inputs(prompt_id, prompt, o, validated)\n        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n`;

function error(type: string, message: string, details: string, extra_info: Record<string, unknown> = {}): ErrorReport {
  return { type, message, details, extra_info };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** validate_node_input: does a link of `received` type fit an input of type `expected`? */
export function typesMatch(received: unknown, expected: InputType): boolean {
  if (received === expected) return true;
  if (typeof received !== 'string' || typeof expected !== 'string') return false;
  const receivedTypes = new Set(received.split(',').map((t) => t.trim()));
  const expectedTypes = new Set(expected.split(',').map((t) => t.trim()));
  if (receivedTypes.has('*') || expectedTypes.has('*')) return true;
  return [...receivedTypes].some((t) => expectedTypes.has(t));
}

/** Python's tuple indexing r[index], or the exception it raises. */
function tupleItem(items: readonly string[], index: unknown): string {
  if (typeof index === 'boolean') return tupleItem(items, index ? 1 : 0);
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    const kind = typeof index === 'number' ? 'float' : typeof index === 'string' ? 'str' : index === null ? 'NoneType' : Array.isArray(index) ? 'list' : 'dict';
    throw new ValidationException('TypeError', `tuple indices must be integers or slices, not ${kind}`, [FRAME_RETURN_TYPE]);
  }
  const item = items[index < 0 ? items.length + index : index];
  if (item === undefined) throw new ValidationException('IndexError', 'tuple index out of range', [FRAME_RETURN_TYPE]);
  return item;
}

function convert(inputType: InputType, value: unknown): unknown {
  if (inputType === 'INT') return pyInt(value);
  if (inputType === 'FLOAT') return pyFloat(value);
  if (inputType === 'STRING') return pyStr(value);
  if (inputType === 'BOOLEAN') return pyBool(value);
  return value;
}

function formatNumber(inputType: InputType, value: unknown): string {
  return inputType === 'FLOAT' && typeof value === 'number' ? pyFloatRepr(value) : pyStr(value);
}

class PromptValidator {
  private readonly validated = new Map<string, Verdict>();
  /** Nodes whose validation is under way: meeting one again means the links form a cycle. */
  private readonly visiting = new Set<string>();
  private readonly prompt: Prompt;
  private readonly catalogue: Catalogue;
  private readonly env: NodeEnvironment;

  constructor(prompt: Prompt, catalogue: Catalogue, env: NodeEnvironment) {
    this.prompt = prompt;
    this.catalogue = catalogue;
    this.env = env;
  }

  get results(): Map<string, Verdict> {
    return this.validated;
  }

  async validateNode(nodeId: string): Promise<Verdict> {
    const known = this.validated.get(nodeId);
    if (known) return known;
    // Python recurses until it gives up; the outcome is the same error.
    if (this.visiting.has(nodeId)) throw new ValidationException('RecursionError', 'maximum recursion depth exceeded', [FRAME_RECURSE]);
    this.visiting.add(nodeId);
    try {
      return await this.checkNode(nodeId);
    } finally {
      this.visiting.delete(nodeId);
    }
  }

  private async checkNode(nodeId: string): Promise<Verdict> {
    const node = this.prompt[nodeId] as PromptNode;
    if (!('inputs' in node)) throw new ValidationException('KeyError', "'inputs'", [FRAME_INPUTS]);
    const inputs = isPlainObject(node.inputs) ? node.inputs : {};
    const classType = node.class_type;
    const behaviour = this.catalogue.behaviour(classType);
    const customInputs = behaviour.validateInputs?.inputs ?? [];
    const errors: ErrorReport[] = [];
    let valid = true;

    for (const { name, category, spec } of await this.catalogue.inputs(classType)) {
      const inputType = spec[0];
      const options: InputOptions = spec[1] ?? {};
      const config = [inputType, options];
      if (!(name in inputs)) {
        if (category === 'required') errors.push(error('required_input_missing', 'Required input is missing', name, { input_name: name }));
        continue;
      }
      let value = inputs[name];

      if (Array.isArray(value)) {
        if (value.length !== 2) {
          errors.push(
            error('bad_linked_input', 'Bad linked input, must be a length-2 list of [node_id, slot_index]', name, {
              input_name: name,
              input_config: config,
              received_value: value,
            }),
          );
          continue;
        }
        const [fromId, slot] = value as [unknown, unknown];
        // Not inside a try in ComfyUI either: these escape to whoever validates this node.
        if (typeof fromId !== 'string' || !Object.hasOwn(this.prompt, fromId)) {
          if (Array.isArray(fromId) || isPlainObject(fromId)) {
            throw new ValidationException('TypeError', `unhashable type: '${Array.isArray(fromId) ? 'list' : 'dict'}'`, [FRAME_LINKED_NODE]);
          }
          throw new ValidationException('KeyError', pyRepr(fromId), [FRAME_LINKED_NODE]);
        }
        const fromNode = this.prompt[fromId] as PromptNode;
        const receivedType = tupleItem(this.catalogue.returnTypes(fromNode.class_type), slot);
        if (!typesMatch(receivedType, inputType)) {
          errors.push(
            error('return_type_mismatch', 'Return type mismatch between linked nodes', `${name}, received_type(${receivedType}) mismatch input_type(${pyStr(inputType)})`, {
              input_name: name,
              input_config: config,
              received_type: receivedType,
              linked_node: value,
            }),
          );
          continue;
        }
        try {
          const verdict = await this.validateNode(fromId);
          if (!verdict.valid) valid = false;
        } catch (exception) {
          if (!(exception instanceof ValidationException)) throw exception;
          valid = false;
          this.validated.set(fromId, {
            valid: false,
            errors: [
              error('exception_during_inner_validation', 'Exception when validating inner node', exception.message, {
                input_name: name,
                input_config: config,
                exception_message: exception.message,
                exception_type: exception.pyType,
                traceback: [FRAME_RECURSE, ...exception.frames],
                linked_node: value,
              }),
            ],
          });
        }
        continue;
      }

      try {
        if (isPlainObject(value) && '__value__' in value) {
          value = value.__value__;
          inputs[name] = value;
        }
        const converted = convert(inputType, value);
        if (converted !== value) inputs[name] = converted;
        value = converted;
      } catch (exception) {
        if (!(exception instanceof PyException)) throw exception;
        errors.push(
          error('invalid_input_type', `Failed to convert an input value to a ${pyStr(inputType)} value`, `${name}, ${pyStr(value)}, ${exception.message}`, {
            input_name: name,
            input_config: config,
            received_value: value,
            exception_message: exception.message,
          }),
        );
        continue;
      }

      if (customInputs.includes(name)) continue;
      const bound = outOfBounds(value, options.min, options.max);
      if (bound) {
        const [type, word, limit] = bound === 'min' ? (['value_smaller_than_min', 'smaller', options.min] as const) : (['value_bigger_than_max', 'bigger', options.max] as const);
        errors.push(
          error(type, `Value ${formatNumber(inputType, value as number)} ${word} than ${bound} of ${formatNumber(inputType, limit as number)}`, name, {
            input_name: name,
            input_config: config,
            received_value: value,
          }),
        );
        continue;
      }
      const choices = Array.isArray(inputType) ? inputType : inputType === 'COMBO' && Array.isArray(options.options) ? (options.options as unknown[]) : undefined;
      if (choices && !choices.includes(value as string)) {
        const long = choices.length > 20;
        errors.push(
          error('value_not_in_list', 'Value not in list', `${name}: '${pyStr(value)}' not in ${long ? `(list of length ${choices.length})` : pyRepr(choices)}`, {
            input_name: name,
            input_config: long ? null : config,
            received_value: value,
          }),
        );
      }
    }

    if (behaviour.validateInputs) {
      const values: Record<string, unknown> = {};
      for (const name of behaviour.validateInputs.inputs) if (name in inputs && !Array.isArray(inputs[name])) values[name] = inputs[name];
      const verdict = await behaviour.validateInputs.check(values, this.env);
      if (verdict !== true) {
        for (const name of Object.keys(values)) {
          errors.push(error('custom_validation_failed', 'Custom validation failed for node', `${name} - ${verdict}`, { input_name: name }));
        }
      }
    }

    const verdict = { valid: valid && errors.length === 0, errors };
    this.validated.set(nodeId, verdict);
    return verdict;
  }
}

/** Validates a submitted prompt (already known to be a JSON object). */
export async function validatePrompt(
  prompt: Record<string, unknown>,
  catalogue: Catalogue,
  env: NodeEnvironment,
  partialTargets?: unknown,
): Promise<ValidationResult> {
  const outputs: string[] = [];
  for (const nodeId of orderedKeys(prompt)) {
    const node = prompt[nodeId];
    if (!isPlainObject(node) || !('class_type' in node)) {
      return { ok: false, error: error('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${nodeId}'`), nodeErrors: {} };
    }
    const classType = node.class_type;
    if (!catalogue.has(classType)) {
      return { ok: false, error: error('invalid_prompt', `Cannot execute because node ${pyStr(classType)} does not exist.`, `Node ID '#${nodeId}'`), nodeErrors: {} };
    }
    if (catalogue.isOutputNode(classType) && (!Array.isArray(partialTargets) || partialTargets.includes(nodeId))) outputs.push(nodeId);
  }
  if (outputs.length === 0) return { ok: false, error: error('prompt_no_outputs', 'Prompt has no outputs', ''), nodeErrors: {} };

  const validator = new PromptValidator(prompt as Prompt, catalogue, env);
  const good: string[] = [];
  const failures: { output: string; reasons: ErrorReport[] }[] = [];
  const nodeErrors: Record<string, NodeErrorReport> = {};
  for (const output of outputs) {
    let verdict: Verdict;
    try {
      verdict = await validator.validateNode(output);
    } catch (exception) {
      if (!(exception instanceof ValidationException)) throw exception;
      verdict = {
        valid: false,
        errors: [
          error('exception_during_validation', 'Exception when validating node', exception.message, {
            exception_type: exception.pyType,
            traceback: [FRAME_VALIDATE_PROMPT, ...exception.frames],
          }),
        ],
      };
      validator.results.set(output, verdict);
    }
    if (verdict.valid) {
      good.push(output);
      continue;
    }
    failures.push({ output, reasons: verdict.errors });
    for (const [nodeId, result] of validator.results) {
      if (result.valid || result.errors.length === 0) continue;
      const report = (nodeErrors[nodeId] ??= { errors: result.errors, dependent_outputs: [], class_type: (prompt[nodeId] as PromptNode).class_type });
      report.dependent_outputs.push(output);
    }
  }

  if (good.length === 0) {
    const details = failures.flatMap(({ reasons }) => reasons.map((reason) => `${reason.message}: ${reason.details}`)).join('\n');
    return { ok: false, error: error('prompt_outputs_failed_validation', 'Prompt outputs failed validation', details), nodeErrors };
  }
  return { ok: true, outputs: good, nodeErrors };
}

/** Which bound of an input's spec a number breaks, if any (ComfyUI checks min before max). */
function outOfBounds(value: unknown, min: unknown, max: unknown): 'min' | 'max' | undefined {
  if (typeof value !== 'number') return undefined;
  if (typeof min === 'number' && value < min) return 'min';
  if (typeof max === 'number' && value > max) return 'max';
  return undefined;
}

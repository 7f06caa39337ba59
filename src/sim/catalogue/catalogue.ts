/**
 * The node classes the server knows: their /object_info specs joined with their behaviours.
 * Choice lists that depend on files (models, input images) are filled in when asked for.
 */
import type { NodeBehaviour, NodeEnvironment } from '../nodes/types.ts';
import type { InputCategory, InputSpec, NodeSpec } from './types.ts';

export interface ResolvedInput {
  name: string;
  category: InputCategory;
  spec: InputSpec;
}

/** JSON.stringify cannot write these integers exactly; the real server sends them as is. */
const EXACT_INTEGERS: [string, string][] = [
  ['18446744073709552000', '18446744073709551615'],
  ['9223372036854776000', '9223372036854775807'],
];

/** The spec with another choice list in place of its type. */
function withChoices(spec: InputSpec, choices: string[]): InputSpec {
  return spec[1] === undefined ? [choices] : [choices, spec[1]];
}

function withExactIntegers(json: string): string {
  let out = json;
  for (const [rounded, exact] of EXACT_INTEGERS) out = out.replaceAll(rounded, exact);
  return out;
}

export class Catalogue {
  private readonly specs: Readonly<Record<string, NodeSpec>>;
  private readonly behaviours: Readonly<Record<string, NodeBehaviour>>;
  private readonly env: NodeEnvironment;
  private objectInfoCache: { key: string; json: string } | undefined;

  constructor(specs: Readonly<Record<string, NodeSpec>>, behaviours: Readonly<Record<string, NodeBehaviour>>, env: NodeEnvironment) {
    const missing = Object.keys(specs).filter((name) => !behaviours[name]);
    const unspecified = Object.keys(behaviours).filter((name) => !specs[name]);
    if (missing.length > 0 || unspecified.length > 0) {
      throw new Error(`node catalogue mismatch: no behaviour for [${missing.join(', ')}], no spec for [${unspecified.join(', ')}]`);
    }
    this.specs = specs;
    this.behaviours = behaviours;
    this.env = env;
  }

  has(classType: unknown): classType is string {
    return typeof classType === 'string' && Object.hasOwn(this.specs, classType);
  }

  classNames(): string[] {
    return Object.keys(this.specs);
  }

  spec(classType: string): NodeSpec {
    const spec = this.specs[classType];
    if (!spec) throw new Error(`unknown node class ${classType}`);
    return spec;
  }

  behaviour(classType: string): NodeBehaviour {
    const behaviour = this.behaviours[classType];
    if (!behaviour) throw new Error(`unknown node class ${classType}`);
    return behaviour;
  }

  isOutputNode(classType: string): boolean {
    return this.spec(classType).output_node;
  }

  returnTypes(classType: string): string[] {
    return this.spec(classType).output;
  }

  hiddenInputs(classType: string): Record<string, string> {
    return this.spec(classType).input.hidden ?? {};
  }

  /** Required then optional inputs, in declaration order, with current choice lists. */
  async inputs(classType: string): Promise<ResolvedInput[]> {
    const spec = this.spec(classType);
    const behaviour = this.behaviour(classType);
    const result: ResolvedInput[] = [];
    for (const category of ['required', 'optional'] as const) {
      const entries = spec.input[category];
      if (!entries) continue;
      for (const name of spec.input_order[category] ?? Object.keys(entries)) {
        const inputSpec = entries[name];
        if (!inputSpec) continue;
        const options = behaviour.comboOptions?.[name];
        result.push({ name, category, spec: options ? withChoices(inputSpec, await options(this.env)) : inputSpec });
      }
    }
    return result;
  }

  private async resolvedSpec(classType: string): Promise<NodeSpec> {
    const spec = this.spec(classType);
    const dynamic = this.behaviour(classType).comboOptions;
    if (!dynamic) return spec;
    const input = { ...spec.input };
    for (const category of ['required', 'optional'] as const) {
      const entries = spec.input[category];
      if (!entries) continue;
      const copy: Record<string, InputSpec> = {};
      for (const [name, inputSpec] of Object.entries(entries)) {
        const options = dynamic[name];
        copy[name] = options ? withChoices(inputSpec, await options(this.env)) : inputSpec;
      }
      input[category] = copy;
    }
    return { ...spec, input };
  }

  /** GET /object_info (all classes) or /object_info/{class} ({} for an unknown class). */
  async objectInfo(classType?: string): Promise<string> {
    if (classType !== undefined) {
      if (!this.has(classType)) return '{}';
      return withExactIntegers(JSON.stringify({ [classType]: await this.resolvedSpec(classType) }));
    }
    const resolved = await Promise.all(this.classNames().map(async (name) => [name, await this.resolvedSpec(name)] as const));
    // Only the file-dependent lists change between calls; reuse the serialisation otherwise.
    const key = JSON.stringify(
      resolved.filter(([name]) => this.behaviour(name).comboOptions).map(([, spec]) => [spec.input.required, spec.input.optional]),
    );
    if (this.objectInfoCache?.key === key) return this.objectInfoCache.json;
    const json = withExactIntegers(JSON.stringify(Object.fromEntries(resolved)));
    this.objectInfoCache = { key, json };
    return json;
  }
}

/** The shape of one /object_info entry, as the real server sends it. */
export type InputType = string | readonly string[];
export type InputOptions = Readonly<Record<string, unknown>>;
export type InputSpec = readonly [InputType] | readonly [InputType, InputOptions];

export interface NodeSpec {
  input: {
    required?: Record<string, InputSpec>;
    optional?: Record<string, InputSpec>;
    hidden?: Record<string, string>;
  };
  input_order: { required?: string[]; optional?: string[]; hidden?: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  name: string;
  display_name: string | null;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
  output_tooltips?: (string | null)[];
  deprecated?: boolean;
  experimental?: boolean;
  api_node?: boolean;
}

export type InputCategory = 'required' | 'optional';

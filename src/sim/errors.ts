/** How a simulated node fails at run time, shaped like the Python exception the real node raises. */
const EXECUTION_FRAMES = [
  '  File "/opt/comfyui/ComfyUI/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n                                                              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n',
  '  File "/opt/comfyui/ComfyUI/execution.py", line 315, in get_output_data\n    return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n',
  '  File "/opt/comfyui/ComfyUI/execution.py", line 289, in _async_map_node_over_list\n    await process_inputs(input_dict, i)\n',
  '  File "/opt/comfyui/ComfyUI/execution.py", line 277, in process_inputs\n    result = f(**inputs)\n             ^^^^^^^^^^^\n',
];

/** A node failed: reported as execution_error with this Python exception type and message. */
export class NodeError extends Error {
  readonly exceptionType: string;
  readonly traceback: string[];

  /** `frames` are the node's own traceback lines, after the executor's. */
  constructor(exceptionType: string, message: string, frames: string[] = []) {
    super(message);
    this.name = 'NodeError';
    this.exceptionType = exceptionType;
    this.traceback = [...EXECUTION_FRAMES, ...frames];
  }
}

/** One traceback line of a node's source, e.g. nodeFrame('nodes.py', 1857, 'batch', 's = torch.cat(...)'). */
export function nodeFrame(file: string, line: number, functionName: string, code: string): string {
  return `  File "/opt/comfyui/ComfyUI/${file}", line ${line}, in ${functionName}\n    ${code}\n`;
}

/** The run was interrupted (POST /interrupt): reported as execution_interrupted. */
export class InterruptedError extends Error {
  constructor() {
    super('Processing interrupted');
    this.name = 'InterruptedError';
  }
}

/**
 * Behaviour of every simulated node class, by class name. To add a class: add its name to
 * scripts/sim-node-specs.mjs and run it (copies the real /object_info entry into
 * catalogue/specs.ts), then add its behaviour to one of these groups.
 */
import { FILE_NODES } from './files.ts';
import { IMAGE_NODES } from './image-ops.ts';
import { MODEL_NODES } from './models.ts';
import { SAMPLING_NODES } from './sampling.ts';
import type { NodeBehaviour } from './types.ts';
import { UTILITY_NODES } from './utility.ts';

export const NODE_BEHAVIOURS: Readonly<Record<string, NodeBehaviour>> = {
  ...MODEL_NODES,
  ...SAMPLING_NODES,
  ...IMAGE_NODES,
  ...FILE_NODES,
  ...UTILITY_NODES,
};

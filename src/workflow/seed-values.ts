/** The seed inputs of a workflow and the numbers they hold. */
import type { ApiWorkflow } from './types.ts';
import { seedInputs } from './detect-seed.ts';

export interface SeedValue {
  nodeId: string;
  input: string;
  value: number;
}

export function seedValues(workflow: ApiWorkflow): SeedValue[] {
  return seedInputs(workflow).flatMap((target) => {
    const value = workflow[target.nodeId]?.inputs[target.input];
    return typeof value === 'number' ? [{ nodeId: target.nodeId, input: target.input, value }] : [];
  });
}

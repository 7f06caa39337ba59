/** Fixture access for the workflow tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApiWorkflow } from '../../src/client/types.ts';
import { parseWorkflow } from '../../src/workflow/load.ts';

export function fixturePath(relative: string): string {
  return fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));
}

/** One of test/fixtures/workflows/*.json, parsed the way pyros parses files. */
export function workflowFixture(name: string): ApiWorkflow {
  const path = fixturePath(`workflows/${name}.json`);
  return parseWorkflow(readFileSync(path, 'utf8'), path);
}

/** A recorded traffic workflow; files holding several prompts are keyed by label. */
export function trafficWorkflow(scenario: string, label?: string): ApiWorkflow {
  const data = JSON.parse(readFileSync(fixturePath(`traffic/${scenario}.workflow.json`), 'utf8')) as Record<string, unknown>;
  return (label === undefined ? data : data[label]) as ApiWorkflow;
}

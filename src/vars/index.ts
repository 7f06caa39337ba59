/**
 * Prompt variables: `__name__` picks an entry of `name.txt` (or `name.md`) from the variable
 * folders, deterministically from the job's seed.
 */
export { variableDirs, bundledVariablesDir } from './dirs.ts';
export { listVariables, type VariableInfo } from './list.ts';
export { expandPrompt, hasVariables, MAX_DEPTH, type Choice, type Expansion, type ExpandOptions } from './expand.ts';
export { SYSTEM_VARIABLES } from './syntax.ts';

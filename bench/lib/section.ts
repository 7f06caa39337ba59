import type { Pinning } from './proc.ts';

/** What every section of the benchmark is given. */
export interface SectionContext {
  pinning: Pinning;
  /** The project's root folder. */
  root: string;
  /** A scratch folder, removed after the run. */
  work: string;
  /** The environment of the processes measured. */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

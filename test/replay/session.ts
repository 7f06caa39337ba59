/** One pyros Client against one replayed scenario, torn down whatever happens. */
import assert from 'node:assert/strict';
import { Client, type ClientOptions } from '../../src/client/client.ts';
import type { Job, JobEvents } from '../../src/client/job.ts';
import type { OutputRef } from '../../src/client/types.ts';
import { startReplay, type ReplayOptions, type ReplayServer } from '../support/replay-server.ts';
import type { Recording } from '../support/replay/recording.ts';
import { readAll, recordedViewBytes } from './recorded-facts.ts';

export interface Session {
  replay: ReplayServer;
  client: Client;
}

export async function withSession<T>(
  scenario: string,
  run: (session: Session) => Promise<T>,
  options: { replay?: ReplayOptions; client?: ClientOptions } = {},
): Promise<T> {
  const replay = await startReplay(scenario, options.replay);
  const client = new Client({ server: replay.url, ...options.client });
  try {
    return await run({ replay, client });
  } finally {
    client.close();
    await replay.close();
  }
}

export type Recorded<K extends keyof JobEvents> = JobEvents[K][0];

/** Records every emission of the given job events, in order. */
export function record<K extends keyof JobEvents>(job: Job, name: K): Recorded<K>[] {
  const seen: Recorded<K>[] = [];
  job.on(name, ((value: Recorded<K>) => seen.push(value)) as never);
  return seen;
}

export function once<K extends keyof JobEvents>(job: Job, name: K): Promise<Recorded<K>> {
  return new Promise((resolve) => job.once(name, ((value: Recorded<K>) => resolve(value)) as never));
}

/** Downloads each output through the client and checks it against what the server served and recorded. */
export async function assertDownloads(session: Session, recording: Recording, outputs: OutputRef[]): Promise<void> {
  for (const { item } of outputs) {
    const bytes = await readAll(await session.client.api.view(item));
    const key = item.subfolder ? `${item.subfolder}/${item.filename}` : item.filename;
    const served = session.replay.served.get(key);
    assert.ok(served, `the replay served ${key}`);
    assert.ok(bytes.equals(served), `downloaded ${key} is byte-identical to what was served`);
    assert.ok(served.equals(recordedViewBytes(recording, item)), `served ${key} is the recorded body`);
  }
}

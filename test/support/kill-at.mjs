// Preloaded into a pyros process (NODE_OPTIONS=--import=…/kill-at.mjs) by tests that need it
// killed at an exact point: right after a file is hard-linked to a name matching
// PYROS_KILL_AFTER_LINK (a regular expression), the process sends itself SIGKILL. That is the
// instant between an output taking its final name and its sidecars being written.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const pattern = process.env.PYROS_KILL_AFTER_LINK;
if (pattern) {
  const require = createRequire(import.meta.url);
  const fs = require('node:fs/promises');
  const link = fs.link;
  const matches = new RegExp(pattern);
  fs.link = async function linkThenDie(from, to) {
    await link(from, to);
    if (matches.test(String(to))) process.kill(process.pid, 'SIGKILL');
  };
  syncBuiltinESMExports();
}

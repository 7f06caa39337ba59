// Preloaded into a pyros process (NODE_OPTIONS=--import=…/kill-at.mjs) by tests that need it
// killed at an exact point: right after a file is hard-linked to a name matching
// PYROS_KILL_AFTER_LINK (a regular expression), the process sends itself SIGKILL. That is the
// instant between an output taking its final name and its sidecars being written.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const pattern = process.env.PYROS_KILL_AFTER_LINK;
if (pattern) {
  const require = createRequire(import.meta.url);
  const matches = new RegExp(pattern);
  const die = (to) => {
    if (matches.test(String(to))) process.kill(process.pid, 'SIGKILL');
  };
  // Files are linked either way (pyros links small files synchronously).
  const fsPromises = require('node:fs/promises');
  const link = fsPromises.link;
  fsPromises.link = async function linkThenDie(from, to) {
    await link(from, to);
    die(to);
  };
  const fs = require('node:fs');
  const linkSync = fs.linkSync;
  fs.linkSync = function linkSyncThenDie(from, to) {
    linkSync(from, to);
    die(to);
  };
  syncBuiltinESMExports();
}

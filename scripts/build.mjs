// Builds the CLI (one bundle with its dependencies, for fast start-up) and the library (ESM + types).
// Each build goes to a staging folder first and its files are then renamed into dist/ one by one,
// chunks before the entry that imports them: a pyros started while another build runs (two test
// runs at once) finds every file whole, never missing or half written.
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { build } from 'tsdown';

const common = { platform: 'node', target: 'node20', format: 'esm', logLevel: 'warn', config: false };

/** Every file under `dir`, deepest first (so top-level entries come last). */
async function filesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
  return files.sort((a, b) => b.split(/[\\/]/).length - a.split(/[\\/]/).length || a.localeCompare(b));
}

/** Moves the staged files into `target`, then removes the files of earlier builds that `owned` says are this build's. */
async function install(staging, target, owned) {
  const fresh = await filesUnder(staging);
  for (const file of fresh) {
    await mkdir(dirname(join(target, file)), { recursive: true });
    await rename(join(staging, file), join(target, file));
  }
  const current = new Set(fresh);
  for (const file of await filesUnder(target)) {
    if (owned(file) && !current.has(file)) await rm(join(target, file), { force: true });
  }
}

async function staged(target, options, owned) {
  await mkdir('dist', { recursive: true });
  const staging = await mkdtemp(join('dist', '.staging-'));
  try {
    await build({ ...common, ...options, outDir: staging, clean: false });
    await install(staging, target, owned);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

await staged(
  'dist',
  {
    entry: { cli: 'src/cli/main.ts' },
    dts: false,
    deps: { alwaysBundle: [/.*/] },
    // Smaller code parses faster at start-up; names are kept so that stack traces stay readable.
    minify: { compress: true, mangle: false, codegen: true },
    outputOptions: { chunkFileNames: 'chunks/[name]-[hash].js' },
  },
  (file) => /^cli[^\\/]*\.mjs$/.test(file) || /^chunks[\\/]/.test(file),
);

await staged('dist/lib', { entry: { index: 'src/index.ts' }, dts: true }, () => true);

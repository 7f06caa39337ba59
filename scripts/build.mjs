// Builds the CLI (one bundle with its dependencies, for fast start-up) and the library (ESM + types).
import { build } from 'tsdown';

const common = { platform: 'node', target: 'node20', format: 'esm', logLevel: 'warn', config: false };

await build({
  ...common,
  entry: { cli: 'src/cli/main.ts' },
  outDir: 'dist',
  clean: ['dist/cli*.mjs', 'dist/chunks'],
  dts: false,
  deps: { alwaysBundle: [/.*/] },
  // Smaller code parses faster at start-up; names are kept so that stack traces stay readable.
  minify: { compress: true, mangle: false, codegen: true },
  outputOptions: { chunkFileNames: 'chunks/[name]-[hash].js' },
});

await build({
  ...common,
  entry: { index: 'src/index.ts' },
  outDir: 'dist/lib',
  clean: true,
  dts: true,
});

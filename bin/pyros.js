#!/usr/bin/env node
// The bundled command line (built by `npm run build`, which `npm ci` and `npm install` run).
import '../dist/cli.mjs';

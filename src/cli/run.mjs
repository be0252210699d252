#!/usr/bin/env node
// Entry point of `npm run cli -- <command> …`: bundles src/cli/main.ts with
// Vite when needed (see bundle.mjs), then runs it in this process.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBundle } from './bundle.mjs';

let dir;
try {
  dir = await ensureBundle();
} catch (err) {
  process.stderr.write(`cli: could not build the bundle: ${err?.message ?? err}\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(path.join(dir, 'main.mjs')).href);
process.exitCode = await main(process.argv.slice(2));

// Builds the Node bundle of the CLI (and the CISH benchmark) with Vite's SSR
// build, so Vite-only imports (`?url` assets, extensionless TS paths,
// tfjs deep imports) resolve exactly as in the app. The bundle lives in the
// gitignored .cache/cli/ and is rebuilt when any file under src/ or
// bench/cish/ (or package.json / package-lock.json) is newer than it.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_DIR = path.join(ROOT, '.cache', 'cli');
const STAMP = path.join(BUNDLE_DIR, 'stamp.json');
const LOCK = path.join(ROOT, '.cache', 'cli.lock');

/** Entry name → source, relative to the repository root. */
const ENTRIES = {
  main: 'src/cli/main.ts',
  'bench-cish': 'bench/cish/stages.ts',
};

// Emscripten glue in the codecs and in tfjs-backend-wasm expects CommonJS
// globals when it detects Node; an ES module bundle has none, so define them.
const BANNER = [
  "import { createRequire as __tsCreateRequire } from 'node:module';",
  "import { fileURLToPath as __tsFileURLToPath } from 'node:url';",
  "import { dirname as __tsDirname } from 'node:path';",
  'const require = __tsCreateRequire(import.meta.url);',
  'const __filename = __tsFileURLToPath(import.meta.url);',
  'const __dirname = __tsDirname(__filename);',
].join(' ');

async function newestSource() {
  let newest = 0;
  let files = 0;
  const visit = async (dir) => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) {
        files++;
        newest = Math.max(newest, (await stat(full)).mtimeMs);
      }
    }
  };
  await visit(path.join(ROOT, 'src'));
  await visit(path.join(ROOT, 'bench', 'cish'));
  for (const name of ['package.json', 'package-lock.json']) {
    try {
      newest = Math.max(newest, (await stat(path.join(ROOT, name))).mtimeMs);
      files++;
    } catch {
      // optional
    }
  }
  return { newest, files };
}

async function isFresh(sources) {
  try {
    const stamp = JSON.parse(await readFile(STAMP, 'utf8'));
    if (stamp.newest !== sources.newest || stamp.files !== sources.files) return false;
    for (const name of Object.keys(ENTRIES)) await stat(path.join(BUNDLE_DIR, `${name}.mjs`));
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Cross-process lock (mkdir is atomic); a lock older than 5 minutes is taken as abandoned. */
async function withLock(fn) {
  await mkdir(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - (await stat(LOCK)).mtimeMs > 300_000) await rm(LOCK, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

/**
 * Makes sure .cache/cli/ holds an up-to-date bundle; returns its folder.
 * `force` rebuilds regardless (TILESCOPE_CLI_REBUILD=1 does the same).
 */
export async function ensureBundle({ force = process.env.TILESCOPE_CLI_REBUILD === '1', log = (line) => process.stderr.write(line + '\n') } = {}) {
  const before = await newestSource();
  if (!force && (await isFresh(before))) return BUNDLE_DIR;
  return withLock(async () => {
    const sources = await newestSource();
    if (!force && (await isFresh(sources))) return BUNDLE_DIR;
    log('cli: building the Node bundle with Vite (first use or sources changed)…');
    const started = performance.now();
    const { build } = await import('vite');
    await build({
      root: ROOT,
      configFile: false,
      publicDir: false,
      logLevel: 'warn',
      // Bundle dependencies too: Node cannot load some of them as published
      // (extensionless ESM deep imports in tfjs-core's dist).
      ssr: { noExternal: true, target: 'node' },
      build: {
        ssr: true,
        outDir: BUNDLE_DIR,
        emptyOutDir: true,
        target: 'node20',
        minify: false,
        sourcemap: true,
        copyPublicDir: false,
        reportCompressedSize: false,
        rollupOptions: {
          input: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(ROOT, file)])),
          output: { format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', banner: BANNER },
        },
      },
    });
    await writeFile(STAMP, JSON.stringify(sources));
    log(`cli: bundle ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return BUNDLE_DIR;
  });
}

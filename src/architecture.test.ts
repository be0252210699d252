/**
 * The directions imports may run (docs/ARCHITECTURE.md, issue 16): the core
 * (slide reading, imaging, tiling, analysis, models, engine, and the base
 * utilities) is plain TypeScript that runs in Node and in workers, so it
 * imports nothing from the UI, the store, the workers or the command line,
 * and no DOM or UI library; the base utilities import nothing of the project;
 * the store imports nothing from the UI.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const CORE = ['util', 'slide', 'imaging', 'tiling', 'analysis', 'models', 'engine'];
const ABOVE_CORE = ['ui', 'store', 'workers', 'cli', 'bench'];
const UI_PACKAGES = ['react', 'react-dom', 'openseadragon', 'zustand', 'comlink'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|tsx|mts)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every module specifier a file imports (static, dynamic, re-exports, workers via `new URL`). */
function importsOf(text: string): string[] {
  const specs: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new\s+URL\(\s*)['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(pattern)) specs.push(m[1]);
  return specs;
}

/** The top folder under src/ a relative specifier lands in, or the package name. */
function destination(file: string, spec: string): { folder?: string; pkg?: string } {
  if (!spec.startsWith('.')) return { pkg: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] };
  const rel = path.relative(SRC, path.resolve(path.dirname(file), spec));
  return { folder: rel.split(path.sep)[0] };
}

describe('import directions', () => {
  it('finds static, dynamic and re-exported imports', () => {
    const text = `import a from './a';\nimport type { B } from "../b";\nexport { c } from './c';\nconst d = await import('./d');\nimport './e';\nnew URL('./f.worker.ts', import.meta.url);`;
    expect(importsOf(text)).toEqual(['./a', '../b', './c', './d', './e', './f.worker.ts']);
  });

  const rules: Array<{ folder: string; forbidden: string[]; packages: string[] }> = [
    ...CORE.map((folder) => ({ folder, forbidden: ABOVE_CORE, packages: UI_PACKAGES })),
    // The store holds state for the UI; it is not made of UI.
    { folder: 'store', forbidden: ['ui', 'cli', 'bench'], packages: ['react-dom', 'openseadragon'] },
  ];
  for (const { folder, forbidden, packages } of rules) {
    it(`src/${folder} imports nothing from ${forbidden.join(', ')} or ${packages.join(', ')}`, () => {
      const wrong: string[] = [];
      for (const file of sources(path.join(SRC, folder))) {
        for (const spec of importsOf(readFileSync(file, 'utf8'))) {
          const to = destination(file, spec);
          const bad = (to.folder && (forbidden.includes(to.folder) || (folder === 'util' && to.folder !== 'util'))) || (to.pkg && packages.includes(to.pkg));
          if (bad) wrong.push(`${path.relative(SRC, file)} → ${spec}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});

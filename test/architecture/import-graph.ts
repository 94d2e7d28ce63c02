/**
 * The import graph of `src/`, read from the source text: every relative `import`, `export … from` and
 * `import()` of every non-test file, resolved to a file. Enough for the dependency rule (imports.test.ts); no
 * bundler resolution is needed because the package uses only relative specifiers with `.js` extensions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface Edge {
  from: string;
  to: string;
  /** `import type` / `export type`: erased at build time, no runtime dependency. */
  typeOnly: boolean;
}

const SPECIFIER =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Every non-test `.ts` file under `dir`, as paths that start with `dir`. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Files are named relative to `src/` (`hub/delivery/outbox.ts`). */
export function importGraph(srcDir: string): { files: string[]; edges: Edge[] } {
  const root = resolve(srcDir);
  const files = sourceFiles(root).map((f) => relative(root, f));
  const edges: Edge[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[3] ?? m[4];
      if (spec === undefined) continue;
      const target = relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
      edges.push({ from: file, to: target, typeOnly: m[2] !== undefined });
    }
  }
  return { files, edges };
}

/** The top folder of a file: `hub/delivery/outbox.ts` → `hub`; a file at the root → its own name. */
export function layerOf(file: string): string {
  const i = file.indexOf('/');
  return i === -1 ? file.replace(/\.ts$/, '') : file.slice(0, i);
}

/** Every elementary cycle's first occurrence found by a depth-first walk (enough to name and fix each). */
export function findCycles(nodes: string[], edgesOf: (n: string) => string[]): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of edgesOf(n)) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of nodes) if (!state.has(n)) visit(n);
  return cycles;
}

/**
 * The dependency rule of docs/architecture.md, checked on the source: the library (core, api, stream, callback)
 * stands alone; the store is persistence and knows nothing of the hub; observe (events, metrics) sits below both
 * the hub and the server; the hub knows nothing of the server, the CLI or the emulator (the CLI starts one and
 * hands it over); and no file reaches itself through its imports, type-only imports included.
 */
import { describe, expect, it } from 'vitest';
import { type Edge, findCycles, importGraph, layerOf } from './import-graph.js';

const { files, edges } = importGraph(new URL('../../src', import.meta.url).pathname);

const LIBRARY = ['core', 'api', 'stream', 'callback'];
const APP = ['hub', 'server', 'store', 'emulator', 'cli', 'observe'];

/** Layer → the layers it must never import. */
const FORBIDDEN: Record<string, string[]> = {
  ...Object.fromEntries(LIBRARY.map((l) => [l, APP])),
  observe: ['hub', 'server', 'store', 'emulator', 'cli'],
  store: ['hub', 'server', 'emulator', 'cli', 'observe'],
  hub: ['server', 'cli', 'emulator'],
  server: ['cli', 'emulator'],
  emulator: ['hub', 'server', 'store', 'cli', 'observe'],
};

function violations(all: Edge[]): string[] {
  return all
    .filter((e) => FORBIDDEN[layerOf(e.from)]?.includes(layerOf(e.to)))
    .map((e) => `${e.from} → ${e.to}`);
}

describe('the dependency rule', () => {
  it('reads the whole graph (every relative import resolves to a source file)', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(edges.length).toBeGreaterThan(500);
    const known = new Set(files);
    expect(edges.filter((e) => !known.has(e.to)).map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  it('no layer imports one it must not', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('catches a forbidden import when there is one (the check itself can fail)', () => {
    const planted: Edge[] = [
      { from: 'store/schema.ts', to: 'hub/hub.ts', typeOnly: true },
      { from: 'core/pipeline.ts', to: 'observe/events.ts', typeOnly: false },
      { from: 'hub/hub.ts', to: 'server/app.ts', typeOnly: false },
      { from: 'hub/hub.ts', to: 'store/schema.ts', typeOnly: false },
    ];
    expect(violations(planted)).toEqual([
      'store/schema.ts → hub/hub.ts',
      'core/pipeline.ts → observe/events.ts',
      'hub/hub.ts → server/app.ts',
    ]);
  });

  it('no import cycles between files, type-only imports included', () => {
    const out = new Map<string, string[]>();
    for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
    const cycles = findCycles(files, (f) => out.get(f) ?? []).map((c) => c.join(' → '));
    expect(cycles).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] };
    expect(findCycles(Object.keys(graph), (n) => graph[n] ?? [])).toEqual([['a', 'b', 'c', 'a']]);
  });
});

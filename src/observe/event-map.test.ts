/**
 * The event map against the code around it. tsc already refuses a `publish` of a name outside the map; these
 * checks read the source as text so they also hold for what tsc cannot see: a map entry nobody publishes, a name
 * built at run time, the docs' list, and names safe to write into the dashboard's script.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, isEventName } from './event-map.js';

const SRC = new URL('../', import.meta.url).pathname;
const DOCS = new URL('../../docs/http-api.md', import.meta.url).pathname;

/** The names passed to `.publish(…)` in one file, and the name expressions that are not literals. */
function publishCalls(file: string, text: string): { names: string[]; computed: string[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const names: string[] = [];
  const computed: string[] = [];
  const collect = (e: ts.Expression): void => {
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) names.push(e.text);
    else if (ts.isParenthesizedExpression(e)) collect(e.expression);
    else if (ts.isConditionalExpression(e)) {
      collect(e.whenTrue);
      collect(e.whenFalse);
    } else computed.push(e.getText(source));
  };
  const visit = (n: ts.Node): void => {
    if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      n.expression.name.text === 'publish' &&
      n.arguments[0] !== undefined
    ) {
      collect(n.arguments[0]);
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return { names, computed };
}

function hubFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return hubFiles(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [path] : [];
  });
}

const hub = hubFiles(join(SRC, 'hub')).map((f) => publishCalls(f, readFileSync(f, 'utf8')));
const published = new Set(hub.flatMap((c) => c.names));

describe('the event map', () => {
  it('names every event the hub publishes, by a literal name', () => {
    expect(published.size).toBeGreaterThan(5);
    expect([...published].filter((n) => !isEventName(n))).toEqual([]);
    expect(hub.flatMap((c) => c.computed)).toEqual([]);
  });

  it('holds no event the hub never publishes', () => {
    expect(EVENT_NAMES.filter((n) => !published.has(n))).toEqual([]);
  });

  it('the reading finds a stray name, both arms of a choice, and a computed name (the check can fail)', () => {
    const planted = publishCalls(
      'planted.ts',
      "bus.publish('task.done', {}); this.#events?.publish(kind === 'a' ? ('task.reminded') : 'task.x', {});\n" +
        "bus.publish('task.' + action, { id }); bus.subscribe(() => {});",
    );
    expect(planted.names).toEqual(['task.done', 'task.reminded', 'task.x']);
    expect(planted.computed).toEqual(["'task.' + action"]);
    expect(planted.names.filter((n) => !isEventName(n))).toEqual(['task.done', 'task.x']);
  });

  it('is listed in docs/http-api.md, one table row per event, nothing else', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const section = docs.slice(
      docs.indexOf('### `GET /v1/events`'),
      docs.indexOf('### `GET /v1/events/recent`'),
    );
    const rows = [...section.matchAll(/^\| `([^`]+)` +\|/gm)].map((m) => m[1]);
    expect(rows).toEqual([...EVENT_NAMES]);
  });

  it('has names that can be written into the dashboard script and an SSE `event:` line as they are', () => {
    for (const n of EVENT_NAMES) expect(n).toMatch(/^[a-z]+(\.[a-z]+)*$/);
    expect(new Set(EVENT_NAMES).size).toBe(EVENT_NAMES.length);
  });
});

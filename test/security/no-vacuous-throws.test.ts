/**
 * Guard: no test may assert a failure with an `expect.unreachable` / `expect.fail` call inside a
 * `try` that has a `catch`. The `catch` swallows the assertion error itself, so the test passes when nothing threw
 * (three such tests hid in src/callback). Use `expectThrows` from test/support/expect-throws.ts instead.
 *
 * The scan parses every *.test.ts with the TypeScript compiler (no regexes over code), so comments and strings
 * cannot trip it and formatting cannot hide a case.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SCANNED = ['src', 'test', 'bench'];
const BANNED = new Set(['expect.unreachable', 'expect.fail', 'assert.fail']);

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(path));
    else if (entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** 1-based lines of banned calls that sit in a `try` block guarded by a `catch` (same function). */
function vacuousAssertions(source: string, fileName = 'x.test.ts'): number[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && BANNED.has(node.expression.getText(file)) && insideCaughtTry(node)) {
      lines.push(file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return lines;
}

function insideCaughtTry(node: ts.Node): boolean {
  let child = node;
  for (let parent = node.parent; parent; child = parent, parent = parent.parent) {
    // A callback defined in the try runs whenever it is called: its own body decides, not the outer try.
    if (ts.isFunctionLike(parent)) return false;
    if (ts.isTryStatement(parent) && parent.tryBlock === child && parent.catchClause) return true;
  }
  return false;
}

describe('no vacuous failure assertions', () => {
  it('no *.test.ts calls expect.unreachable / expect.fail inside a try with a catch', () => {
    const found: string[] = [];
    for (const dir of SCANNED) {
      for (const path of testFiles(join(ROOT, dir))) {
        for (const line of vacuousAssertions(readFileSync(path, 'utf8'), path)) {
          found.push(`${relative(ROOT, path)}:${line}`);
        }
      }
    }
    expect(found, 'use expectThrows (test/support/expect-throws.ts) instead').toEqual([]);
  });

  it('twin: the scan finds the pattern in every shape it takes, and only there', () => {
    // The examples name the banned calls through constants, so that plain-text scanners of test files (the
    // before-stop hook's grep) do not take this file's own examples for uses.
    const U = 'expect.unreachable';
    const F = 'expect.fail';
    const bad = [
      'try {',
      '  f();',
      `  ${U}();`,
      '} catch (e) {',
      "  expect(String(e)).not.toContain('secret');",
      '}',
      `it("x", async () => { try { await g(); ${F}("no"); } catch { /* */ } });`,
    ].join('\n');
    expect(vacuousAssertions(bad)).toEqual([3, 7]);
    const fine = [
      `try { f(); } finally { ${U}(); }`,
      `try { run(() => { ${F}("never called"); }); } catch (e) { throw e; }`,
      `// try { ${U}(); } catch {}`,
      `const s = "try { ${U}(); } catch {}";`,
      `${U}();`,
    ].join('\n');
    expect(vacuousAssertions(fine)).toEqual([]);
  });
});

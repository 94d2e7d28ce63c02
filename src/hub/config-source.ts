/**
 * Reading the config file so that its errors can be shown safely. A parse error names the file,
 * the line and the key it is in, never the text: yaml's messages quote the offending line with a caret and V8's
 * JSON.parse quotes the text around the error, and that line may be the one with a secret on it. A value the
 * schema refuses is located the same way (`lineOf`), so the message can say where without saying what.
 */

import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';

/** Key names are shown; anything that does not look like one (a value pasted as a key, say) is not. */
const SHOWN_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export function showPath(path: readonly PropertyKey[]): string {
  return path.map((k) => (typeof k === 'number' || SHOWN_KEY.test(String(k)) ? String(k) : '?')).join('.');
}

/** What yaml's error codes mean, in our words (its messages may carry source text). */
const YAML_PROBLEMS: Record<string, string> = {
  MISSING_CHAR: 'a closing quote or bracket is missing',
  BAD_INDENT: 'bad indentation',
  TAB_AS_INDENT: 'a tab used for indentation',
  DUPLICATE_KEY: 'a key given twice',
  UNEXPECTED_TOKEN: 'unexpected text',
  BLOCK_AS_IMPLICIT_KEY: 'a block used as a key',
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines',
  MULTIPLE_DOCS: 'more than one document',
  BAD_SCALAR_START: 'a value that cannot start this way',
  BAD_ALIAS: 'an alias to no anchor',
  KEY_OVER_1024_CHARS: 'a key longer than 1024 characters',
};

interface ConfigSource {
  /** The parsed content. */
  raw: unknown;
  /** `line N` of a key path in the file, when it is there. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/** Parses a config file's text; a syntax error is a ConfigError naming file, line and key only. */
export function readConfigSource(file: string, text: string): ConfigSource {
  const json = file.endsWith('.json');
  const lines = new LineCounter();
  // yaml reads JSON as well (YAML 1.2 is a superset): one locator for both formats.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      const start = node?.range?.[0];
      if (start !== undefined) return lines.linePos(start).line;
    }
    return undefined;
  };
  if (json) {
    try {
      return { raw: JSON.parse(text), lineOf };
    } catch (e) {
      const m = /at position (\d+)/.exec((e as Error).message);
      const at = m ? Number(m[1]) : doc.errors[0]?.pos[0];
      throw syntaxError(
        file,
        'JSON',
        'invalid JSON syntax',
        text,
        at,
        lines,
        jsonPathAt(text, at ?? text.length),
      );
    }
  }
  const first = doc.errors[0];
  if (first) {
    const at = first.pos[0];
    const inside = yamlPathAt(doc.contents, at);
    const where = inside.start ?? at;
    throw syntaxError(
      file,
      'YAML',
      YAML_PROBLEMS[first.code] ?? first.code.toLowerCase().replace(/_/g, ' '),
      text,
      where,
      lines,
      inside.path,
    );
  }
  return { raw: doc.toJS(), lineOf };
}

function syntaxError(
  file: string,
  kind: string,
  problem: string,
  text: string,
  at: number | undefined,
  lines: LineCounter,
  path: readonly PropertyKey[],
): ConfigError {
  const pos = at === undefined ? undefined : lines.linePos(Math.min(at, text.length));
  const line = pos ? `, line ${pos.line}` : '';
  const key = path.length > 0 ? ` in ${showPath(path)}` : '';
  return new ConfigError(
    `${file}${line}: not valid ${kind}: ${problem}${key} (the line is not shown: it may hold a secret)`,
  );
}

/**
 * The key path a parse error falls in: the deepest pair whose key or value spans `at` (an unterminated quote's
 * value runs to the end of the file, so its pair's key says where it began), with where that pair starts.
 */
function yamlPathAt(node: unknown, at: number): { path: PropertyKey[]; start: number | undefined } {
  const path: PropertyKey[] = [];
  let start: number | undefined;
  let current = node;
  for (let depth = 0; depth < 64; depth++) {
    let next: unknown;
    if (isMap(current)) {
      for (const pair of current.items) {
        if (!isPair(pair)) continue;
        const k = pair.key as Node | null;
        const v = pair.value as Node | null;
        const from = k?.range?.[0] ?? v?.range?.[0];
        const to = v?.range?.[2] ?? k?.range?.[2];
        if (from === undefined || to === undefined || at < from || at > to) continue;
        path.push(isScalar(k) ? String(k.value) : '?');
        start = from;
        next = v;
      }
    } else if (isSeq(current)) {
      current.items.forEach((item, i) => {
        const r = (item as Node | null)?.range;
        if (r && at >= r[0] && at <= r[2]) {
          path.push(i);
          start = r[0];
          next = item;
        }
      });
    }
    if (next === undefined) break;
    current = next;
  }
  return { path, start };
}

/** The key path at character `at` of a JSON text, read with a small scanner (the text does not parse). */
function jsonPathAt(text: string, at: number): PropertyKey[] {
  const stack: Array<{ array: boolean; key: string | undefined; index: number }> = [];
  let lastString: string | undefined;
  for (let i = 0; i < Math.min(at, text.length); i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      lastString = text.slice(i + 1, j);
      i = j;
      continue;
    }
    const top = stack[stack.length - 1];
    if (ch === '{' || ch === '[') stack.push({ array: ch === '[', key: undefined, index: 0 });
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ':' && top && !top.array) top.key = lastString;
    else if (ch === ',' && top) {
      if (top.array) top.index++;
      else top.key = undefined;
    }
  }
  return stack.flatMap((f): PropertyKey[] => (f.array ? [f.index] : f.key !== undefined ? [f.key] : []));
}

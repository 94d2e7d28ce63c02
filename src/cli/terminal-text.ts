/**
 * Text people control (task titles and notes, chat nicks, DingTalk display names, error text quoting them) is
 * printed to an operator's terminal, which obeys control characters: OSC 52 writes the clipboard, OSC 8 makes a
 * link, `ESC[2J` clears the screen, `ESC[1A` + `\r` rewrite the line above, U+202E reverses what follows. Human
 * output therefore shows every such character as a visible escape (`\x1b`, `\r`, `\u202e`): the text stays
 * readable and nothing acts on the terminal. `--json` output is never touched (JSON escapes C0 itself, and a
 * script must get the exact text).
 */

/**
 * C0 (but tab and LF), DEL, C1, the Unicode line and paragraph separators (line breaks to some viewers), and the
 * bidi embeddings, overrides and isolates (Trojan Source).
 */
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
/** The same plus tab and LF: a table cell or a field stays on its one line. */
const ACTIVE_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function shown(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}

/** A block of human output: its own line breaks (and tabs) kept, every other control character escaped. */
export function terminalSafe(text: string): string {
  return text.replace(ACTIVE, shown);
}

/** One field or table cell: line breaks and tabs escaped too, so it cannot forge a row or a field. */
export function oneLine(text: string): string {
  return text.replace(ACTIVE_OR_BREAK, shown);
}

/**
 * How many terminal columns a text takes: East Asian wide and full-width characters (CJK ideographs, kana, Hangul,
 * full-width forms, most emoji) take two, combining marks and zero-width characters none, the rest one. Tables
 * padded by `String.length` drift one column per Chinese character; padded by this, `张三` lines up with `Alice`.
 *
 * The ranges are Unicode's East_Asian_Width W and F (UAX #11), folded into blocks; JavaScript has no property
 * escape for them.
 */

const WIDE =
  /[\u1100-\u115f\u231a\u231b\u2329\u232a\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab\u26bd\u26be\u26c4\u26c5\u26ce\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2705\u270a\u270b\u2728\u274c\u274e\u2753-\u2755\u2757\u2795-\u2797\u27b0\u27bf\u2b1b\u2b1c\u2b50\u2b55\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff01-\uff60\uffe0-\uffe6\u{16fe0}-\u{16fe4}\u{17000}-\u{18cff}\u{1b000}-\u{1b2ff}\u{1f004}\u{1f0cf}\u{1f18e}\u{1f191}-\u{1f19a}\u{1f200}-\u{1f251}\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f7e0}-\u{1f7eb}\u{1f90c}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]/u;

/** Combining marks, zero-width space/joiners, variation selectors, soft hyphen: drawn on the character before. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: tested against one code point at a time, never a sequence
const ZERO = /[\p{Mn}\p{Me}\u00ad\u200b-\u200f\u2060-\u2064\ufe00-\ufe0f\ufeff\u{e0100}-\u{e01ef}]/u;

export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    if (ZERO.test(ch)) continue;
    w += WIDE.test(ch) ? 2 : 1;
  }
  return w;
}

/** `text` followed by spaces up to `width` columns (as `padEnd`, by display width). */
export function padEndDisplay(text: string, width: number): string {
  const w = displayWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}

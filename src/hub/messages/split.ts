/**
 * Splits a message body that is over DingTalk's size cap into ordered parts, each within `maxBytes` of UTF-8.
 * Caps (reference): webhook body 20,000 bytes (docs/dingtalk.md §2), app-robot msgParam 15,000 bytes (§3.1), work notification
 * msg 2,048 bytes (§5.1). Cuts prefer a blank line, then a line break, then a space, and never split a code point
 * (nor a UTF-16 surrogate pair), so every part renders on its own.
 */

import { ValidationError } from '../../core/errors.js';

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function splitMessage(text: string, maxBytes: number): string[] {
  if (maxBytes < 16) throw new ValidationError('maxBytes must be at least 16', 'maxBytes');
  if (byteLength(text) <= maxBytes) return [text];
  const parts: string[] = [];
  let rest = text;
  while (byteLength(rest) > maxBytes) {
    const cut = cutPoint(rest, maxBytes);
    // trimEnd, not /\s+$/: that pattern retries from every position of a whitespace run that does not reach the
    // end, quadratic on a part of tabs ending in a word (test/security/redos.test.ts). Both strip the same set.
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\n+/, '');
  }
  if (rest.length > 0) parts.push(rest);
  return parts.filter((p) => p.length > 0);
}

/** The largest index ≤ the byte budget, moved back to the best boundary in the second half of the chunk. */
function cutPoint(s: string, maxBytes: number): number {
  // Find the longest prefix within budget, walking code points.
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const w = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + w > maxBytes) break;
    bytes += w;
    i += cp > 0xffff ? 2 : 1;
  }
  const floor = Math.floor(i / 2);
  for (const sep of ['\n\n', '\n', ' ']) {
    const at = s.lastIndexOf(sep, i - sep.length);
    if (at >= floor && at > 0) return at + sep.length;
  }
  return i;
}

/** Adds "(k/n)" to each part when there is more than one, keeping each within the cap. */
export function numberParts(parts: string[], maxBytes: number): string[] {
  if (parts.length <= 1) return parts;
  const n = parts.length;
  return parts.map((p, k) => {
    const tag = `(${k + 1}/${n}) `;
    return byteLength(tag) + byteLength(p) <= maxBytes ? tag + p : p;
  });
}

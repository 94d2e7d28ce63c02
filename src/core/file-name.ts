/**
 * File names a recipient can trust. Invisible characters are removed: C0 and C1 controls, and the Unicode bidi
 * controls (LRE/RLE/PDF/LRO/RLO U+202A–202E, the isolates U+2066–2069, LRM/RLM U+200E/200F, ALM U+061C) with
 * which `photo\u202Egnp.zip` displays as `photopiz.png`. The extension is then read from what is left, so a check
 * of the type sees the name the recipient will see. A name that still holds a path separator, or is `.` / `..`,
 * is refused: a file name is never a path.
 */

import { ValidationError } from './errors.js';

const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The cleaned name, or a ValidationError on `field`.
 * @example cleanFileName('photo\u202Egnp.zip') // 'photognp.zip'
 */
export function cleanFileName(raw: string, field = 'fileName'): string {
  if (typeof raw !== 'string') throw new ValidationError('must be a string', field);
  const name = raw.replace(INVISIBLE, '').trim();
  if (name === '') throw new ValidationError('is empty once invisible characters are removed', field);
  if (/[/\\]/.test(name)) throw new ValidationError('must be a bare file name, without directories', field);
  if (name === '.' || name === '..') throw new ValidationError('must be a file name, not "." or ".."', field);
  return name;
}

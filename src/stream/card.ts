/**
 * Decoding of a card callback's `content` (docs/dingtalk.md §S8: a JSON string holding
 * `{ cardPrivateData: { actionIds[], params{} } }`).
 */

import type { CardCallback, CardPrivateData } from './types.js';

/** The pressed action ids and their params, or undefined when `content` is absent or not the documented shape. */
export function parseCardAction(cb: CardCallback): CardPrivateData | undefined {
  if (typeof cb.content !== 'string' || cb.content === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(cb.content);
  } catch {
    return undefined;
  }
  const pd = (value as { cardPrivateData?: unknown } | null)?.cardPrivateData;
  if (!pd || typeof pd !== 'object') return undefined;
  const { actionIds, params } = pd as { actionIds?: unknown; params?: unknown };
  return {
    actionIds: Array.isArray(actionIds) ? actionIds.filter((a): a is string => typeof a === 'string') : [],
    params:
      params && typeof params === 'object' && !Array.isArray(params)
        ? (params as Record<string, unknown>)
        : {},
  };
}

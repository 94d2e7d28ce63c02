import { describe, expect, it } from 'vitest';
import { parseCardAction } from './card.js';

describe('parseCardAction', () => {
  it('decodes cardPrivateData from the content string (docs/dingtalk.md §S8)', () => {
    const content = JSON.stringify({ cardPrivateData: { actionIds: ['approve', 3], params: { id: '42' } } });
    expect(parseCardAction({ outTrackId: 'c', userId: 'u', content })).toEqual({
      actionIds: ['approve'],
      params: { id: '42' },
    });
  });

  it('returns undefined for missing or foreign content', () => {
    expect(parseCardAction({ outTrackId: 'c', userId: 'u' })).toBeUndefined();
    expect(parseCardAction({ outTrackId: 'c', userId: 'u', content: '{bad' })).toBeUndefined();
    expect(parseCardAction({ outTrackId: 'c', userId: 'u', content: '{"x":1}' })).toBeUndefined();
  });
});

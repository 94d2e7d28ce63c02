import { describe, expect, it } from 'vitest';
import { checkTemplate, TEMPLATES } from './templates.js';

describe('checkTemplate (docs/dingtalk.md §3.2)', () => {
  it('knows the 13 documented msgKeys and no sampleActionCard1', () => {
    expect(Object.keys(TEMPLATES).sort()).toEqual(
      [
        'sampleActionCard',
        'sampleActionCard2',
        'sampleActionCard3',
        'sampleActionCard4',
        'sampleActionCard5',
        'sampleActionCard6',
        'sampleAudio',
        'sampleFile',
        'sampleImageMsg',
        'sampleLink',
        'sampleMarkdown',
        'sampleText',
        'sampleVideo',
      ].sort(),
    );
    expect(TEMPLATES['sampleActionCard3']).toEqual([
      'title',
      'text',
      'actionTitle1',
      'actionURL1',
      'actionTitle2',
      'actionURL2',
      'actionTitle3',
      'actionURL3',
    ]);
    expect(TEMPLATES['sampleActionCard6']).toContain('buttonUrl2');
  });

  it('requires msgParam to be a JSON string of an object, within 15,000 bytes', () => {
    expect(checkTemplate('sampleText', { content: 'x' })).toMatchObject({
      code: 'invalidParameter.msgParam.invalid',
    });
    expect(checkTemplate('sampleText', '[1]')).toMatchObject({ code: 'invalidParameter.msgParam.invalid' });
    expect(checkTemplate('sampleText', JSON.stringify({ content: '汉'.repeat(5000) }))).toMatchObject({
      code: 'invalidParameter.msgParam.tooLong',
    });
    expect(checkTemplate('sampleText', JSON.stringify({ content: 'ok' }))).toMatchObject({
      ok: true,
      text: 'ok',
    });
  });

  it('names the missing field', () => {
    expect(checkTemplate('sampleText', '{}')).toMatchObject({ code: 'miss.param.contentOfText' });
    expect(checkTemplate('sampleFile', '{"mediaId":"@x","fileName":"a.pdf"}')).toMatchObject({
      code: 'miss.param.fileType',
    });
    expect(checkTemplate('sampleAudio', '{"mediaId":"@x","duration":3000}')).toMatchObject({ ok: true });
  });
});

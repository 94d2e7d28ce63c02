import { describe, expect, it } from 'vitest';
import { noticeMessage } from '../../api/notice/notice-messages.js';
import { templateOf } from './fallback.js';

describe('the app-robot form of a work notice (the fallback of a drop)', () => {
  it('carries text, markdown, link and file as the matching templates', () => {
    expect(templateOf(noticeMessage.text('hi'))).toEqual({
      msgKey: 'sampleText',
      msgParam: { content: 'hi' },
    });
    expect(templateOf(noticeMessage.markdown('T', '**b**'))).toEqual({
      msgKey: 'sampleMarkdown',
      msgParam: { title: 'T', text: '**b**' },
    });
    expect(
      templateOf({ msgtype: 'link', link: { messageUrl: 'https://x', picUrl: '@m', title: 't', text: 'x' } }),
    ).toMatchObject({ msgKey: 'sampleLink', msgParam: { messageUrl: 'https://x', title: 't' } });
    expect(templateOf(noticeMessage.file('@media'), 'report.pdf')).toEqual({
      msgKey: 'sampleFile',
      msgParam: { mediaId: '@media', fileName: 'report.pdf', fileType: 'pdf' },
    });
  });

  it('has none for a file whose name is unknown or a voice message: no fallback rather than a wrong one', () => {
    expect(templateOf(noticeMessage.file('@media'))).toBeUndefined();
    expect(templateOf({ msgtype: 'voice', voice: { media_id: '@v', duration: '3' } })).toBeUndefined();
  });

  it('turns an action card into the card template with its buttons, and an oa notice into markdown', () => {
    expect(
      templateOf({
        msgtype: 'action_card',
        action_card: { title: 'Deploy', markdown: 'ok?', single_title: 'Open', single_url: 'https://x' },
      }),
    ).toEqual({
      msgKey: 'sampleActionCard',
      msgParam: { title: 'Deploy', text: 'ok?', singleTitle: 'Open', singleURL: 'https://x' },
    });
    const oa = templateOf({
      msgtype: 'oa',
      oa: {
        message_url: 'https://hub/x',
        head: { bgcolor: 'FFBBBBBB', text: 'HR' },
        body: { title: 'Leave', form: [{ key: 'Days', value: '3' }], content: 'approved' },
      },
    });
    expect(oa).toEqual({
      msgKey: 'sampleMarkdown',
      msgParam: { title: 'Leave', text: 'Days 3\n\napproved\n\n[Leave](https://hub/x)' },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { fakeTransport, type Reply, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { ValidationError } from '../../core/errors.js';

function client(script: (n: number) => Reply = () => ({ body: {} })) {
  const t = fakeTransport((_r, n) => script(n));
  return { dt: new DingTalk({ ...testOptions, robotCode: 'dingrobot', transport: t.send }), t };
}

describe('cards (docs/dingtalk.md §10)', () => {
  it('creates and delivers to a group through the app robot', async () => {
    const { dt, t } = client(() => ({
      body: {
        success: true,
        result: {
          outTrackId: 'deploy-42',
          deliverResults: [{ spaceType: 'IM_GROUP', spaceId: 'cidX', success: true, carrierId: 'pqk' }],
        },
      },
    }));
    const r = await dt.card.createAndDeliver({
      cardTemplateId: 'tpl.schema',
      outTrackId: 'deploy-42',
      cardData: { status: 'running' },
      to: { group: 'cidX' },
      callbackType: 'STREAM',
      privateData: { u1: { mine: 'yes' } },
    });
    expect(r).toEqual({
      outTrackId: 'deploy-42',
      success: true,
      deliverResults: [
        { spaceType: 'IM_GROUP', spaceId: 'cidX', success: true, carrierId: 'pqk', errorMsg: undefined },
      ],
    });
    expect(t.calls[0]!.path).toBe('/v1.0/card/instances/createAndDeliver');
    expect(t.calls[0]!.json).toEqual({
      cardTemplateId: 'tpl.schema',
      outTrackId: 'deploy-42',
      cardData: { cardParamMap: { status: 'running' } },
      openSpaceId: 'dtv1.card//IM_GROUP.cidX',
      imGroupOpenSpaceModel: { supportForward: true },
      imGroupOpenDeliverModel: { robotCode: 'dingrobot' },
      privateData: { u1: { cardParamMap: { mine: 'yes' } } },
      callbackType: 'STREAM',
    });
  });

  it('delivers to a user robot chat', async () => {
    const { dt, t } = client();
    await dt.card.createAndDeliver({
      cardTemplateId: 't',
      outTrackId: 'o',
      cardData: {},
      to: { user: 'u1' },
    });
    expect(t.calls[0]!.json).toMatchObject({
      openSpaceId: 'dtv1.card//IM_ROBOT.u1',
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
    });
  });

  it('updates with PUT and merge options', async () => {
    const { dt, t } = client();
    await dt.card.update({ outTrackId: 'o', cardData: { status: 'done' }, updateCardDataByKey: true });
    expect(t.calls[0]!.method).toBe('PUT');
    expect(t.calls[0]!.path).toBe('/v1.0/card/instances');
    expect(t.calls[0]!.json).toEqual({
      outTrackId: 'o',
      cardData: { cardParamMap: { status: 'done' } },
      cardUpdateOptions: { updateCardDataByKey: true },
    });
  });

  it.each([
    [{ cardTemplateId: 't', outTrackId: 'o', cardData: { n: 1 }, to: { group: 'c' } }, 'cardData.n'],
    [{ cardTemplateId: 't', outTrackId: '', cardData: {}, to: { group: 'c' } }, 'outTrackId'],
    [{ cardTemplateId: 't', outTrackId: 'o', cardData: {}, to: {} }, 'to'],
    [
      { cardTemplateId: 't', outTrackId: 'o', cardData: {}, to: { user: 'u' }, callbackType: 'WS' },
      'callbackType',
    ],
  ])('refuses %j locally', async (input, field) => {
    const { dt, t } = client();
    const err = await dt.card.createAndDeliver(input as never).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe(field);
    expect(t.calls).toHaveLength(0);
  });

  it('streams with PUT /v1.0/card/streaming; only full replacements are retried after an unknown outcome', async () => {
    const { TimeoutError } = await import('../../core/errors.js');
    let n = 0;
    const flaky = () =>
      ++n % 2 === 1 ? new TimeoutError('t', 1, { outcome: 'unknown' }) : { body: { success: true } };
    const { dt, t } = client(flaky);
    await dt.card.stream({ outTrackId: 'o', key: 'content', content: 'full text', isFull: true, guid: 'g1' });
    expect(t.calls).toHaveLength(2);
    expect(t.calls[0]!.method).toBe('PUT');
    expect(t.calls[0]!.path).toBe('/v1.0/card/streaming');
    expect(t.calls[0]!.json).toEqual({
      outTrackId: 'o',
      guid: 'g1',
      key: 'content',
      content: 'full text',
      isFull: true,
      isFinalize: false,
      isError: false,
    });
    await expect(
      dt.card.stream({ outTrackId: 'o', key: 'content', content: ' more' }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(t.calls).toHaveLength(3);
    expect((t.calls[2]!.json as { guid: string }).guid).toMatch(/^[0-9a-f-]{36}$/);
  });
});

import { describe, expect, it } from 'vitest';
import { fakeTransport, type Reply, testOptions } from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { ValidationError } from '../../core/errors.js';

function client(script: (n: number) => Reply = () => ({ body: {} })) {
  const t = fakeTransport((_r, n) => script(n));
  return { dt: new DingTalk({ ...testOptions, robotCode: 'dingrobot', transport: t.send }), t };
}

describe('cards (reference §10)', () => {
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
});

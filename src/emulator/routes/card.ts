/**
 * Interactive cards (docs/dingtalk.md §10): create-and-deliver into `IM_GROUP.<openConversationId>` /
 * `IM_ROBOT.<userId>` spaces, update, streaming update, HTTP callback registration. A reused outTrackId changes
 * nothing (§10). Error codes for cards are not in the sheet: the ones below are the emulator's, v1.0-shaped.
 */
import { apiAuthJson } from '../auth.js';
import { apiErr, apiOk, type Ctx, isObject, nonEmpty, type Reply } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import { fingerprint } from '../state.js';
import type { CardRecord } from '../types.js';

export function registerCardRoutes(routes: RouteTable): void {
  routes.add('POST', '/v1.0/card/instances/createAndDeliver', createAndDeliver);
  routes.add('PUT', '/v1.0/card/instances', update);
  routes.add('PUT', '/v1.0/card/streaming', streaming);
  routes.add('POST', '/v1.0/card/callbacks/register', register);
}

function paramMap(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  const m = v['cardParamMap'];
  if (!isObject(m)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(m)) {
    if (typeof x !== 'string') return undefined;
    out[k] = x;
  }
  return out;
}

function createAndDeliver(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const b = a.body;
  const { state } = ctx;
  const templateId = nonEmpty(b['cardTemplateId']);
  const outTrackId = nonEmpty(b['outTrackId']);
  const openSpaceId = nonEmpty(b['openSpaceId']);
  if (!templateId)
    return apiErr(ctx, 400, 'invalidParameter.cardTemplateId.empty', 'cardTemplateId is mandatory');
  if (!outTrackId) return apiErr(ctx, 400, 'invalidParameter.outTrackId.empty', 'outTrackId is mandatory');
  if (!openSpaceId) return apiErr(ctx, 400, 'invalidParameter.openSpaceId.empty', 'openSpaceId is mandatory');
  const data = paramMap(b['cardData']);
  if (!data)
    return apiErr(
      ctx,
      400,
      'invalidParameter.cardData.invalid',
      'cardData.cardParamMap must map strings to strings',
    );
  const existing = state.cards.get(outTrackId);
  if (existing) {
    // §10: reusing an outTrackId changes nothing.
    return apiOk({ success: true, result: { outTrackId, deliverResults: [] } });
  }
  const deliver = isObject(b['imGroupOpenDeliverModel']) ? b['imGroupOpenDeliverModel'] : {};
  const robotCode = nonEmpty(deliver['robotCode']);
  if (robotCode !== undefined) ctx.robot = robotCode;
  const userIdType = b['userIdType'] === 2 ? 2 : 1;
  const results: Array<Record<string, unknown>> = [];
  let first: { spaceType: string; spaceId: string } | undefined;
  for (const space of openSpaceId.split(';').filter(Boolean)) {
    const m = /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/.exec(space);
    if (!m)
      return apiErr(ctx, 400, 'invalidParameter.openSpaceId.invalid', `openSpaceId ${space} is invalid`);
    const spaceType = m[1] as string;
    const spaceId = m[2] as string;
    let ok = true;
    let errorMsg: string | undefined;
    let conversation: string;
    if (spaceType === 'IM_GROUP') {
      const g = state.groups.get(spaceId);
      conversation = spaceId;
      if (!g) [ok, errorMsg] = [false, 'openConversationId is invalid'];
      else if (robotCode === undefined)
        [ok, errorMsg] = [false, 'imGroupOpenDeliverModel.robotCode is mandatory'];
      else if (!g.robotCodes.includes(robotCode)) [ok, errorMsg] = [false, 'robot is not in the group'];
    } else {
      const u = userIdType === 2 ? state.usersByUnionId.get(spaceId) : state.users.get(spaceId);
      conversation = `oto:${u?.userId ?? spaceId}`;
      if (!u) [ok, errorMsg] = [false, 'user not found'];
    }
    const carrierId = ok ? `${state.hex(20)}+car/${ctx.seq.toString(36)}=` : undefined;
    results.push({
      spaceType,
      spaceId,
      success: ok,
      ...(carrierId ? { carrierId } : {}),
      ...(errorMsg ? { errorMsg } : {}),
    });
    if (!ok) continue;
    first ??= { spaceType, spaceId };
    const rec = state.addMessage({
      seq: state.nextMessageSeq(),
      at: state.now(),
      conversation,
      source: 'card',
      robot: robotCode ?? a.app.robotCode,
      type: templateId,
      content: { outTrackId, cardParamMap: data },
      text: data['title'] ?? data['content'] ?? '',
      atUserIds: [],
      atMobiles: [],
      isAtAll: false,
      ...(carrierId ? { processQueryKey: carrierId } : {}),
      readBy: [],
      ...(ctx.fault !== undefined ? { fault: ctx.fault } : {}),
      fingerprint: fingerprint('card', outTrackId, conversation, data),
    });
    ctx.message ??= rec;
  }
  if (first) {
    const card: CardRecord = {
      outTrackId,
      cardTemplateId: templateId,
      openSpaceId,
      spaceType: first.spaceType,
      spaceId: first.spaceId,
      ...(typeof b['callbackType'] === 'string' ? { callbackType: b['callbackType'] } : {}),
      ...(typeof b['callbackRouteKey'] === 'string' ? { callbackRouteKey: b['callbackRouteKey'] } : {}),
      ...(robotCode !== undefined ? { robotCode } : {}),
      appKey: a.app.appKey,
      cardParamMap: data,
      privateData: privateData(b['privateData']),
      createdAt: state.now(),
      updates: 0,
      clicks: 0,
    };
    state.cards.set(outTrackId, card);
  }
  return apiOk({ success: true, result: { outTrackId, deliverResults: results } });
}

function privateData(v: unknown): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (!isObject(v)) return out;
  for (const [user, d] of Object.entries(v)) {
    const m = paramMap(d);
    if (m) out[user] = m;
  }
  return out;
}

function update(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const b = a.body;
  const card = ctx.state.cards.get(nonEmpty(b['outTrackId']) ?? '');
  if (!card) return apiErr(ctx, 400, 'invalidParameter.outTrackId.notExist', 'card instance does not exist');
  const opts = isObject(b['cardUpdateOptions']) ? b['cardUpdateOptions'] : {};
  const data = b['cardData'] === undefined ? undefined : paramMap(b['cardData']);
  if (b['cardData'] !== undefined && !data) {
    return apiErr(
      ctx,
      400,
      'invalidParameter.cardData.invalid',
      'cardData.cardParamMap must map strings to strings',
    );
  }
  if (data)
    card.cardParamMap = opts['updateCardDataByKey'] === true ? { ...card.cardParamMap, ...data } : data;
  const priv = privateData(b['privateData']);
  for (const [user, m] of Object.entries(priv)) {
    card.privateData[user] =
      opts['updatePrivateDataByKey'] === true ? { ...(card.privateData[user] ?? {}), ...m } : m;
  }
  card.updates++;
  return apiOk({ success: true, result: true });
}

function streaming(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const b = a.body;
  const card = ctx.state.cards.get(nonEmpty(b['outTrackId']) ?? '');
  if (!card) return apiErr(ctx, 400, 'invalidParameter.outTrackId.notExist', 'card instance does not exist');
  const key = nonEmpty(b['key']);
  if (!key || typeof b['content'] !== 'string') {
    return apiErr(ctx, 400, 'invalidParameter.key.empty', 'key and content are mandatory');
  }
  card.cardParamMap[key] =
    b['isFull'] === true ? b['content'] : (card.cardParamMap[key] ?? '') + b['content'];
  card.updates++;
  return apiOk({ success: true, result: true });
}

function register(ctx: Ctx): Reply {
  const a = apiAuthJson(ctx);
  if (a.reply) return a.reply;
  const b = a.body;
  const routeKey = nonEmpty(b['callbackRouteKey']);
  const url = nonEmpty(b['callbackUrl']);
  if (!routeKey || !url)
    return apiErr(
      ctx,
      400,
      'invalidParameter.callbackUrl.empty',
      'callbackRouteKey and callbackUrl are mandatory',
    );
  if (a.app.cardCallback && a.app.cardCallback.routeKey === routeKey && b['forceUpdate'] !== true) {
    return apiErr(ctx, 400, 'callbackRouteKey.exist', 'callbackRouteKey already registered; set forceUpdate');
  }
  const apiSecret = nonEmpty(b['apiSecret']);
  a.app.cardCallback = { routeKey, url, ...(apiSecret !== undefined ? { apiSecret } : {}) };
  return apiOk({
    success: true,
    result: { callbackUrl: url, ...(apiSecret !== undefined ? { apiSecret } : {}) },
  });
}

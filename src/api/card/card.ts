/**
 * Interactive cards, brief (docs/dingtalk.md §10): create-and-deliver and update on `api.dingtalk.com/v1.0/card`.
 * `outTrackId` is the caller's id for the card instance: delivering twice with one id changes nothing, and an
 * update sets values, so both calls are safe to replay and are marked idempotent.
 */

import { randomUUID } from 'node:crypto';
import type { ApiContext } from '../../core/context.js';
import { ConfigError, ValidationError } from '../../core/errors.js';
import {
  appRateKey,
  type CallOptions,
  callFields,
  type Json,
  objectAt,
  optBool,
  optString,
} from '../shared/response.js';
import { requireObject, requireText } from '../shared/validate.js';

/** Card values are strings (complex values are JSON-encoded by the caller, as DingTalk's templates expect). */
export type CardParamMap = Record<string, string>;

/** Where the card goes. */
export type CardTarget =
  | { group: string; robotCode?: string | undefined; supportForward?: boolean | undefined }
  | { user: string; supportForward?: boolean | undefined }
  | { openSpaceId: string };

export interface CardDeliverInput extends CallOptions {
  cardTemplateId: string;
  /** Your unique id of this card instance (≤ 255 characters). */
  outTrackId: string;
  cardData: CardParamMap;
  to: CardTarget;
  /** Per-user values: userId → params. */
  privateData?: Record<string, CardParamMap> | undefined;
  callbackType?: 'HTTP' | 'STREAM' | undefined;
  callbackRouteKey?: string | undefined;
  /** 1 userId (default), 2 unionId. */
  userIdType?: 1 | 2 | undefined;
}

export interface CardDeliverResult {
  outTrackId: string;
  success: boolean;
  deliverResults: Array<{
    spaceType: string | undefined;
    spaceId: string | undefined;
    success: boolean;
    /** For IM spaces, the message's processQueryKey. */
    carrierId: string | undefined;
    errorMsg: string | undefined;
  }>;
}

export interface CardUpdateInput extends CallOptions {
  outTrackId: string;
  cardData?: CardParamMap | undefined;
  privateData?: Record<string, CardParamMap> | undefined;
  /** Merge the given keys instead of replacing the whole map. */
  updateCardDataByKey?: boolean | undefined;
  updatePrivateDataByKey?: boolean | undefined;
  userIdType?: 1 | 2 | undefined;
}

export interface CardStreamInput extends CallOptions {
  outTrackId: string;
  /** The card variable being streamed (e.g. the AI answer's markdown field). */
  key: string;
  content: string;
  /** `true`: `content` replaces the value; `false`: it is appended. @default false */
  isFull?: boolean | undefined;
  /** Last update of the stream. @default false */
  isFinalize?: boolean | undefined;
  /** Ends the stream in an error state. @default false */
  isError?: boolean | undefined;
  /** Id of this update. @default a random UUID */
  guid?: string | undefined;
}

export class Card {
  readonly #ctx: ApiContext;

  constructor(ctx: ApiContext) {
    this.#ctx = ctx;
  }

  /**
   * Creates a card instance and delivers it to a group (via the app robot) or to a user's robot chat.
   * @example
   * await dt.card.createAndDeliver({
   *   cardTemplateId: 'tpl.schema', outTrackId: 'deploy-42', cardData: { status: 'running' },
   *   to: { group: openConversationId }, callbackType: 'STREAM',
   * });
   */
  async createAndDeliver(input: CardDeliverInput): Promise<CardDeliverResult> {
    const op = 'card.createAndDeliver';
    requireObject(input, 'input', op);
    const outTrackId = requireText(input.outTrackId, 'outTrackId', op, 255);
    const body: Json = {
      cardTemplateId: requireText(input.cardTemplateId, 'cardTemplateId', op),
      outTrackId,
      cardData: { cardParamMap: paramMap(input.cardData, 'cardData', op) },
    };
    Object.assign(body, this.#space(input.to, op));
    if (input.privateData !== undefined) body['privateData'] = privateData(input.privateData, op);
    if (input.callbackType !== undefined) {
      if (input.callbackType !== 'HTTP' && input.callbackType !== 'STREAM') {
        throw new ValidationError('must be HTTP or STREAM', 'callbackType', { operation: op });
      }
      body['callbackType'] = input.callbackType;
    }
    if (input.callbackRouteKey !== undefined)
      body['callbackRouteKey'] = requireText(input.callbackRouteKey, 'callbackRouteKey', op);
    if (input.userIdType !== undefined) body['userIdType'] = userIdType(input.userIdType, op);
    const res = await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'POST',
      path: '/v1.0/card/instances/createAndDeliver',
      body,
      auth: 'app',
      idempotent: true,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(input),
    });
    const data = res.data as Json;
    const result = objectAt(data, 'result');
    const list = Array.isArray(result['deliverResults']) ? (result['deliverResults'] as Json[]) : [];
    return {
      outTrackId: optString(result, 'outTrackId') ?? outTrackId,
      success: optBool(data, 'success') ?? true,
      deliverResults: list
        .filter((d) => typeof d === 'object' && d !== null)
        .map((d) => ({
          spaceType: optString(d, 'spaceType'),
          spaceId: optString(d, 'spaceId'),
          success: optBool(d, 'success') ?? false,
          carrierId: optString(d, 'carrierId'),
          errorMsg: optString(d, 'errorMsg'),
        })),
    };
  }

  /**
   * Updates a delivered card's data.
   * @example
   * await dt.card.update({ outTrackId: 'deploy-42', cardData: { status: 'done' }, updateCardDataByKey: true });
   */
  async update(input: CardUpdateInput): Promise<void> {
    const op = 'card.update';
    requireObject(input, 'input', op);
    const body: Json = { outTrackId: requireText(input.outTrackId, 'outTrackId', op, 255) };
    if (input.cardData !== undefined)
      body['cardData'] = { cardParamMap: paramMap(input.cardData, 'cardData', op) };
    if (input.privateData !== undefined) body['privateData'] = privateData(input.privateData, op);
    if (body['cardData'] === undefined && body['privateData'] === undefined) {
      throw new ValidationError('give cardData or privateData', 'cardData', { operation: op });
    }
    const opts: Json = {};
    if (input.updateCardDataByKey !== undefined)
      opts['updateCardDataByKey'] = input.updateCardDataByKey === true;
    if (input.updatePrivateDataByKey !== undefined)
      opts['updatePrivateDataByKey'] = input.updatePrivateDataByKey === true;
    if (Object.keys(opts).length > 0) body['cardUpdateOptions'] = opts;
    if (input.userIdType !== undefined) body['userIdType'] = userIdType(input.userIdType, op);
    await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'PUT',
      path: '/v1.0/card/instances',
      body,
      auth: 'app',
      idempotent: true,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(input),
    });
  }

  /**
   * Streams a value into a delivered card (AI answers, progress): `PUT /v1.0/card/streaming` (§10). An append
   * (`isFull: false`) replayed would append twice, so only full replacements are retried after an unknown
   * outcome.
   * @example
   * for await (const piece of answer) await dt.card.stream({ outTrackId, key: 'content', content: piece });
   * await dt.card.stream({ outTrackId, key: 'content', content: full, isFull: true, isFinalize: true });
   */
  async stream(input: CardStreamInput): Promise<void> {
    const op = 'card.stream';
    requireObject(input, 'input', op);
    if (typeof input.content !== 'string') {
      throw new ValidationError('must be a string', 'content', { operation: op });
    }
    const body: Json = {
      outTrackId: requireText(input.outTrackId, 'outTrackId', op, 255),
      guid: input.guid === undefined ? randomUUID() : requireText(input.guid, 'guid', op),
      key: requireText(input.key, 'key', op),
      content: input.content,
      isFull: input.isFull === true,
      isFinalize: input.isFinalize === true,
      isError: input.isError === true,
    };
    await this.#ctx.request({
      operation: op,
      host: 'api',
      method: 'PUT',
      path: '/v1.0/card/streaming',
      body,
      auth: 'app',
      idempotent: input.isFull === true,
      rateKey: appRateKey(this.#ctx, op),
      ...callFields(input),
    });
  }

  #space(to: CardTarget, op: string): Json {
    if (typeof to !== 'object' || to === null) {
      throw new ValidationError('must be { group } or { user } or { openSpaceId }', 'to', { operation: op });
    }
    if ('openSpaceId' in to) return { openSpaceId: requireText(to.openSpaceId, 'to.openSpaceId', op) };
    if ('group' in to) {
      const cid = requireText(to.group, 'to.group', op);
      const robotCode = to.robotCode ?? this.#ctx.app.robotCode;
      if (robotCode === undefined) throw new ConfigError(`${op}: a group card needs a robotCode`);
      return {
        openSpaceId: `dtv1.card//IM_GROUP.${cid}`,
        imGroupOpenSpaceModel: { supportForward: to.supportForward ?? true },
        imGroupOpenDeliverModel: { robotCode: requireText(robotCode, 'to.robotCode', op) },
      };
    }
    if ('user' in to) {
      const userId = requireText(to.user, 'to.user', op);
      return {
        openSpaceId: `dtv1.card//IM_ROBOT.${userId}`,
        imRobotOpenSpaceModel: { supportForward: to.supportForward ?? true },
        imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
      };
    }
    throw new ValidationError('must be { group } or { user } or { openSpaceId }', 'to', { operation: op });
  }
}

function paramMap(m: unknown, field: string, op: string): CardParamMap {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw new ValidationError('must be an object of strings', field, { operation: op });
  }
  const out: CardParamMap = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') {
      throw new ValidationError('must be a string (JSON-encode complex values)', `${field}.${k}`, {
        operation: op,
      });
    }
    out[k] = v;
  }
  return out;
}

function privateData(p: Record<string, CardParamMap>, op: string): Json {
  requireObject(p, 'privateData', op);
  const out: Json = {};
  for (const [user, m] of Object.entries(p))
    out[user] = { cardParamMap: paramMap(m, `privateData.${user}`, op) };
  return out;
}

function userIdType(v: number, op: string): number {
  if (v !== 1 && v !== 2)
    throw new ValidationError('must be 1 (userId) or 2 (unionId)', 'userIdType', { operation: op });
  return v;
}

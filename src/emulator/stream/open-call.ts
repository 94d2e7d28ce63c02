/**
 * Validation of the open-connection call (docs/dingtalk.md §S2, §S3, §S13) and the v1.0 error body
 * (§S12: `{ code, message, requestid }`, which @alicloud clients surface as error.code / message).
 * The exact production codes for these failures are not documented (§S3: "Error body on failure: not
 * documented"), so the codes below are the emulator's own, in the v1.0 style.
 */
import { randomBytes } from 'node:crypto';

export interface OpenRequest {
  clientId: string;
  ua: string;
  subscriptions: Array<{ type: string; topic: string }>;
}

export class OpenCallError extends Error {
  readonly status: number;
  readonly code: string;
  readonly clientId: string | undefined;

  constructor(status: number, code: string, message: string, clientId: string | undefined) {
    super(message);
    this.name = 'OpenCallError';
    this.status = status;
    this.code = code;
    this.clientId = clientId;
  }
}

export function v1Error(code: string, message: string): { code: string; message: string; requestid: string } {
  return { code, message, requestid: randomBytes(16).toString('hex').toUpperCase() };
}

const TYPES = new Set(['EVENT', 'CALLBACK', 'SYSTEM']);

/** Parses the JSON body; unknown fields (`extras`, `localIp`) are ignored and SYSTEM entries accepted (§S13). */
export function parseOpenBody(
  body: unknown,
  authenticate: (id: string, secret: string) => boolean,
): OpenRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new OpenCallError(400, 'InvalidParameter.Body', 'request body must be a JSON object', undefined);
  }
  const b = body as Record<string, unknown>;
  const clientId = b['clientId'];
  const clientSecret = b['clientSecret'];
  if (typeof clientId !== 'string' || clientId === '') {
    throw new OpenCallError(400, 'MissingParameter.clientId', 'clientId is required', undefined);
  }
  if (typeof clientSecret !== 'string' || clientSecret === '') {
    throw new OpenCallError(400, 'MissingParameter.clientSecret', 'clientSecret is required', clientId);
  }
  // The secret never enters the message: only the app key is named.
  if (!authenticate(clientId, clientSecret)) {
    throw new OpenCallError(400, 'InvalidAuthentication', 'clientId or clientSecret is invalid', clientId);
  }
  const subs = b['subscriptions'];
  if (!Array.isArray(subs) || subs.length === 0) {
    throw new OpenCallError(
      400,
      'MissingParameter.subscriptions',
      'subscriptions must be a non-empty array',
      clientId,
    );
  }
  const subscriptions: Array<{ type: string; topic: string }> = [];
  for (const s of subs) {
    const entry = s !== null && typeof s === 'object' ? (s as Record<string, unknown>) : {};
    const type = entry['type'];
    const topic = entry['topic'];
    if (typeof type !== 'string' || !TYPES.has(type) || typeof topic !== 'string' || topic === '') {
      throw new OpenCallError(
        400,
        'InvalidParameter.subscriptions',
        'each subscription needs a known type and a topic',
        clientId,
      );
    }
    subscriptions.push({ type, topic });
  }
  const ua = typeof b['ua'] === 'string' ? b['ua'] : '';
  return { clientId, ua, subscriptions };
}

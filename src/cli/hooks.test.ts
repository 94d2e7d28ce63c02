/**
 * `hooks test` signs or authenticates its sample as the route's real sender would: for each of the four auth kinds,
 * the headers it builds pass the door's own checks (auth.ts), and with another secret in the CLI's config they do
 * not (the twin: the check can fail).
 */

import { describe, expect, it } from 'vitest';
import { bodyGate, headerGate } from '../hub/gateways/auth.js';
import { hookRouteSchema } from '../hub/gateways/config.js';
import { authHeaders } from './hooks.js';

const SECRET = 'a-secret-of-enough-length-0123';
const OTHER = 'another-secret-of-enough-length';

const auths = (secret: string) => ({
  bearer: { type: 'bearer', token: secret },
  basic: { type: 'basic', username: 'am', password: secret },
  token: { type: 'token', header: 'X-Gitlab-Token', token: secret },
  hmac: { type: 'hmac', secret, prefix: 'sha256=' },
  'hmac with timestamp': {
    type: 'hmac',
    secret,
    encoding: 'base64',
    timestampHeader: 'x-ts',
    algorithm: 'sha512',
  },
});

const route = (auth: unknown) =>
  hookRouteSchema.parse({ name: 'r', kind: 'generic', auth, targets: { groups: ['ops'] } });

describe('hooks test builds the sender’s credentials', () => {
  const raw = Buffer.from('{"title":"x"}');
  const now = Date.now();
  for (const [name, auth] of Object.entries(auths(SECRET))) {
    it(`${name}: the door accepts them; built from another secret it refuses them`, () => {
      const door = route(auth).auth;
      const pass = authHeaders(route(auth), raw, now);
      const header = (h: string) => pass[h.toLowerCase()];
      expect(headerGate(door, header)).toBeUndefined();
      expect(bodyGate(door, header, raw, now)).toBeUndefined();
      const wrong = authHeaders(route(auths(OTHER)[name as keyof ReturnType<typeof auths>]), raw, now);
      const wrongHeader = (h: string) => wrong[h.toLowerCase()];
      expect(headerGate(door, wrongHeader) ?? bodyGate(door, wrongHeader, raw, now)).toMatch(/^bad_/);
      // A signature carries a MAC of the body, never the secret itself.
      if (name.startsWith('hmac')) expect(JSON.stringify(pass)).not.toContain(SECRET);
    });
  }
});

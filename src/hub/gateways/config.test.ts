import { describe, expect, it } from 'vitest';
import { expectThrows } from '../../../test/support/expect-throws.js';
import { configRedactor } from '../../cli/secrets.js';
import { ConfigError } from '../../core/errors.js';
import { Registry } from '../../observe/metrics.js';
import { openStore } from '../../store/open-store.js';
import { parseConfig } from '../config.js';
import { PeopleDirectory } from '../people.js';
import { Gateways } from './gateways.js';

const route = (extra: Record<string, unknown> = {}) => ({
  name: 'am',
  kind: 'alertmanager',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
  auth: { type: 'bearer', token: '${AM_TOKEN}' },
  targets: { groups: ['ops'] },
  ...extra,
});
const env = { AM_TOKEN: 'am-secret-token-0123456789' };

describe('gateways config', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's placeholder syntax
  it('route secrets come from ${ENV} and are redacted like every config secret', () => {
    const cfg = parseConfig({ gateways: { routes: [route()] } }, env);
    expect(cfg.gateways.routes[0]?.auth).toEqual({ type: 'bearer', scheme: 'Bearer', token: env.AM_TOKEN });
    const line = configRedactor(cfg).redact(`got Authorization: Bearer ${env.AM_TOKEN}`);
    expect(line).not.toContain(env.AM_TOKEN);
  });

  it('a short secret, a duplicate name and a bad route name are refused by key, never echoing the value', () => {
    const short = expectThrows(
      () => parseConfig({ gateways: { routes: [route()] } }, { AM_TOKEN: 'short-tok' }),
      ConfigError,
    );
    expect(short.message).toContain('gateways.routes.0.auth.token: at least 16 characters');
    expect(short.message).not.toContain('short-tok');
    expect(() => parseConfig({ gateways: { routes: [route(), route()] } }, env)).toThrow(
      /gateways\.routes\.1\.name: used twice/,
    );
    expect(() => parseConfig({ gateways: { routes: [route({ name: '../x' })] } }, env)).toThrow(
      /gateways\.routes\.0\.name/,
    );
  });

  it('a route naming a group or person the config lacks stops the start', async () => {
    const store = await openStore({ url: ':memory:' });
    try {
      const start = (r: Record<string, unknown>) => {
        const config = parseConfig(
          {
            groups: { ops: { robot: 'r' } },
            robots: { r: { webhook: 'a'.repeat(64) } },
            gateways: { routes: [r] },
          },
          env,
        );
        const people = new PeopleDirectory({ config, db: store.db, dingtalk: {} as never });
        return new Gateways({ config, store, outbox: {} as never, people, metrics: new Registry() });
      };
      expect(start(route()).enabled).toBe(true);
      expect(() => start(route({ targets: { groups: ['opz'] } }))).toThrow(/no group named "opz"/);
      expect(() => start(route({ rules: [{ targets: { people: ['Nobody'] } }] }))).toThrow(
        /no person named "Nobody"/,
      );
      // mentions.always too (`all` is not a person and passes); two routes cannot claim one old URL.
      expect(start(route({ mentions: { always: ['all'] } })).enabled).toBe(true);
      expect(() => start(route({ mentions: { always: ['Nobody'] } }))).toThrow(
        /mentions\.always: no person named "Nobody"/,
      );
      expect(() =>
        parseConfig(
          {
            gateways: {
              routes: [
                route({ alias: { target: 'webhook1' } }),
                route({ name: 'am2', alias: { target: 'webhook1' } }),
              ],
            },
          },
          env,
        ),
      ).toThrow(/gateways\.routes\.1\.alias\.target: used twice/);
    } finally {
      await store.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { parseConfig } from '../config.js';
import { buildReceivers } from './build-receivers.js';
import type { InboxDoor } from './receiver.js';

const APP = { appKey: 'dingappkey0001', appSecret: 'app-secret-for-tests-0123456789' };
const EVENTS = { token: 'tok123', aesKey: 'a'.repeat(43) };

/** Nothing is pushed here: the receivers are built, never started. */
const door: InboxDoor = { commit: async () => 'new' };

function build(inbound: Record<string, unknown> | undefined, o: { receive?: boolean; app?: boolean } = {}) {
  const config = parseConfig(
    {
      ...(o.app === false ? {} : { apps: { hub: APP }, defaultApp: 'hub' }),
      ...(inbound ? { inbound } : {}),
    },
    {},
  );
  return buildReceivers({
    config,
    appName: o.app === false ? undefined : 'hub',
    receive: o.receive,
    door,
    logger: silentLogger,
    replay: false,
    extraOrigins: [],
    reportStoreFault: () => false,
  });
}

describe('buildReceivers: inbound.mode picks the receivers', () => {
  it('stream (the default), http, both; none without an app or with receive: false', () => {
    const names = (s: ReturnType<typeof build>) => s.all.map((r) => r.name);
    expect(names(build(undefined))).toEqual(['stream']);
    expect(names(build({ mode: 'stream' }))).toEqual(['stream']);
    expect(names(build({ mode: 'http' }))).toEqual(['http']);
    expect(names(build({ mode: 'both' }))).toEqual(['http', 'stream']);
    expect(names(build({ mode: 'both' }, { receive: false }))).toEqual([]);
    expect(names(build({ mode: 'both' }, { app: false }))).toEqual([]);
  });

  it('health: stream connecting before it connects; http ready with the paths DingTalk must be given, off once stopped', async () => {
    const set = build({ mode: 'both', http: { events: EVENTS } });
    expect(set.stream?.health()).toEqual({ name: 'stream', state: 'connecting' });
    expect(set.http?.health()).toEqual({
      name: 'http',
      state: 'ready',
      routes: ['/callbacks/robot', '/callbacks/events'],
    });
    await set.http?.stop();
    expect(set.http?.health().state).toBe('off');
    const robotOnly = build({ mode: 'http', http: { robot: true } });
    expect(robotOnly.http?.health().routes).toEqual(['/callbacks/robot']);
    expect(Object.keys(robotOnly.http?.callbacks ?? {})).toEqual(['robot']);
  });
});

/**
 * Shared setup of the `api-*` integration tests: a DingTalk client pointed at a running emulator (both hosts on
 * one origin, real sockets on loopback), with the demo org's credentials and fast retries.
 */

import { DingTalk, type DingTalkClientOptions } from '../../src/client.js';
import { DEMO_ORG, type Emulator } from '../../src/emulator/index.js';

export const APP = DEMO_ORG.org.apps[0]!;
export const ALERTS = DEMO_ORG.org.customRobots.find((r) => r.name === 'alerts')!;
export const NEWS = DEMO_ORG.org.customRobots.find((r) => r.name === 'news')!;
export const OPS = 'cidDemoOps000000002==';
export const ENG = 'cidDemoEngineering0001==';

export function clientFor(emu: Emulator, extra: Partial<DingTalkClientOptions> = {}): DingTalk {
  return new DingTalk({
    appKey: APP.appKey,
    appSecret: APP.appSecret,
    agentId: APP.agentId,
    robotCode: APP.robotCode,
    oapiBase: emu.url,
    apiBase: emu.url,
    env: {},
    timeoutMs: 2_000,
    retry: { minDelayMs: 1, maxDelayMs: 5, retries: 2 },
    ...extra,
  });
}

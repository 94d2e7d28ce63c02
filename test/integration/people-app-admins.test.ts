/**
 * DingTalk's own administrators as operators of the people's app (`peopleApp.dingtalkAdmins`): a person DingTalk
 * reports as the org's main or sub-administrator at the 免登 exchange (`sys_level` 1 or 2, docs/dingtalk.md §13.2)
 * may open the operator views; everyone else may not. Nothing the browser says counts: the flag comes from the
 * hub's own exchange of the code.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../conformance/backends.js';
import { type HubApi, type HubFixture, hubApi, startTestHub, testConfig } from '../e2e/hub-helpers.js';

const PUBLIC = 'https://hub.example.test';

describe("DingTalk's administrators may open the operator views when the config says so", () => {
  let f: HubFixture;
  let api: HubApi;
  beforeAll(async () => {
    f = await startTestHub(backends[0]!, {
      config: testConfig({ publicUrl: PUBLIC, peopleApp: { dingtalkAdmins: true } }),
    });
    api = await hubApi(f.hub);
  });
  afterAll(async () => {
    await f?.cleanup();
  });

  async function me(userId: string, extra: Record<string, unknown> = {}) {
    const code = f.hub.emulator!.authCode(userId);
    const r = await api.app.request(`http://127.0.0.1/app/session/dingtalk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: PUBLIC },
      body: JSON.stringify({ code, ...extra }),
    });
    const cookie = /dk_app_session=[^;]+/.exec(r.headers.get('set-cookie') ?? '')?.[0];
    const m = await api.app.request('http://127.0.0.1/app/api/me', { headers: { cookie: cookie ?? '' } });
    return { status: r.status, me: (await m.json()) as { operator?: boolean; name?: string } };
  }

  it('张三 (sys_level 1) is an operator; 李四 (0) is not, and cannot claim to be', async () => {
    expect((await me('zhangsan')).me).toMatchObject({ name: '张三', operator: true });
    expect((await me('lisi')).me).toMatchObject({ name: '李四', operator: false });
    // The attack: a body that claims the role. The sign-in body takes a code and nothing else.
    expect((await me('lisi', { sysLevel: 1 })).status).toBe(400);
  });
});

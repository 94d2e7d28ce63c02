/**
 * The `check_url` handshake of the event subscription (docs/dingtalk.md §9b): when the callback URL is saved in the
 * developer console, DingTalk pushes `{"EventType":"check_url"}` and saves the URL only if the answer is HTTP 200 with
 * `{msg_signature, timeStamp, nonce, encrypt}` whose text decrypts to `success`. It is a handshake, not an event:
 * the hub answers it and stores nothing (no inbox entry, no replay key). It is still verified: a forged one gets a
 * 4xx and no success envelope, so nobody can use the route to learn that a URL belongs to this app.
 *
 * The control case (an ordinary event through the same route, stored) shows that the "nothing stored" assertion
 * can fail.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallbackEvent, EventCrypto, type ReplyEnvelope } from '../../src/callback/index.js';
import type { ApiServer } from '../../src/server/api-server.js';
import { backends, type HubFixture, serveCallbacks, startTestHub, testConfig } from './hub-helpers.js';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`event subscription check_url (${backend.name})`, () => {
    let f: HubFixture;
    let server: ApiServer;
    let crypto: EventCrypto;
    beforeAll(async () => {
      f = await startTestHub(backend, { config: testConfig({ inbound: { mode: 'http' } }) });
      server = await serveCallbacks(f.hub);
      const app = f.hub.emulator!.state.org.apps[0]!;
      crypto = new EventCrypto({
        token: app.callback!.token,
        aesKey: app.callback!.aesKey,
        ownerKey: app.appKey,
      });
    });
    afterAll(async () => {
      await server?.close();
      await f?.cleanup();
    });

    const push = async (event: CallbackEvent, sign: (ts: string, nonce: string, enc: string) => string) => {
      const encrypt = crypto.encrypt(JSON.stringify(event));
      const timestamp = String(Date.now());
      const nonce = `n${Math.random().toString(36).slice(2, 10)}`;
      const qs = new URLSearchParams({ msg_signature: sign(timestamp, nonce, encrypt), timestamp, nonce });
      const res = await fetch(`${server.url}/callbacks/events?${qs}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ encrypt }),
      });
      return { status: res.status, text: await res.text() };
    };
    const counts = async () => ({
      inbox: (await f.store.db.selectFrom('inbox').select('id').execute()).length,
      kv: (await f.store.db.selectFrom('kv').select('key').execute()).length,
    });

    it('the emulator saving the URL (its check_url push) is answered with the encrypted success', async () => {
      const before = await counts();
      const r = await f.hub.emulator!.acting.pushHttpEvent({ eventType: 'check_url' });
      // The emulator judges the answer as DingTalk does: 200, a valid signature, `success` inside, within 2.5 s.
      expect(r).toMatchObject({ ok: true, result: 'ok' });
      expect(await counts()).toEqual(before);
    });

    it('check_url sent directly: a fresh envelope each time, decrypting to success; nothing stored', async () => {
      const before = await counts();
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const r = await push({ EventType: 'check_url' }, (ts, n, enc) => crypto.sign(ts, n, enc));
        expect(r.status).toBe(200);
        const e = JSON.parse(r.text) as ReplyEnvelope;
        expect(Object.keys(e).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
        expect(crypto.verify(e.msg_signature, e.timeStamp, e.nonce, e.encrypt)).toBe(true);
        expect(crypto.decrypt(e.encrypt)).toBe('success');
        seen.add(e.nonce);
      }
      // §9b: a fresh nonce per answer.
      expect(seen.size).toBe(3);
      expect(await counts()).toEqual(before);
    });

    it('attack: a check_url with a forged signature gets a 4xx and no success envelope', async () => {
      const before = await counts();
      const r = await push({ EventType: 'check_url' }, () => 'f'.repeat(40));
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.text).not.toContain('msg_signature');
      // Signed with another subscription's token: the same.
      const other = new EventCrypto({ token: 'otherToken1', aesKey: 'a'.repeat(43), ownerKey: 'dingother' });
      const r2 = await push({ EventType: 'check_url' }, (ts, n, enc) => other.sign(ts, n, enc));
      expect(r2.status).toBeGreaterThanOrEqual(400);
      expect(r2.status).toBeLessThan(500);
      expect(await counts()).toEqual(before);
    });

    it('control: an ordinary event through the same route is stored (the count above can move)', async () => {
      const before = await counts();
      const r = await push(
        { EventType: 'user_add_org', EventId: `evt-control-${backend.name}` },
        (ts, n, enc) => crypto.sign(ts, n, enc),
      );
      expect(r.status).toBe(200);
      const after = await counts();
      expect(after.inbox).toBe(before.inbox + 1);
      expect(after.kv).toBeGreaterThan(before.kv);
    });
  });
}

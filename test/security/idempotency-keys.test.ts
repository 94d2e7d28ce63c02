/**
 * Attack: idempotency keys were global. Caller B, reusing caller A's key (the docs' own example is the guessable
 * `deploy-1.4.2`) with another group, text and `mentionAll`, got `202 duplicate` and B's alert was dropped; the
 * same caller reusing a key for a different request got the first answer and never knew its message was not sent.
 *
 * Defence: a key is claimed in the caller's scope (`token:<name>`) with a fingerprint of the canonical request;
 * the same key with the same request replays the first answer, with a different one it is `409
 * idempotency_conflict` and nothing is written or sent. Checked at the emulator (what DingTalk got) and in the store.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { backends, OPS, waitFor } from '../e2e/hub-helpers.js';
import { type SecureHub, secureHub } from './secure-hub.js';

const ENG_ALIAS = 'engineering';

for (const backend of backends) {
  describe.skipIf(backend.skip)(`idempotency keys are bound to caller and request (${backend.name})`, () => {
    let h: SecureHub;
    afterEach(async () => {
      await h?.close();
    });

    const sendWithKey = (token: string, key: string, body: Record<string, unknown>) =>
      h.call(token, '/v1/messages', { json: body, headers: { 'idempotency-key': key } });

    it("B reusing A's key gets its own message sent; A's retry replays the first answer; a changed body is 409", async () => {
      h = await secureHub(backend);
      const a = await h.mint('team-a', ['send']);
      const b = await h.mint('team-b', ['send']);
      const key = 'deploy-1.4.2';
      const aBody = { group: 'ops', text: 'deploy 1.4.2 finished' };

      const first = await sendWithKey(a, key, aBody);
      expect(first.status).toBe(202);
      const firstAnswer = (await first.json()) as { messageId: string; duplicate: boolean };
      expect(firstAnswer.duplicate).toBe(false);
      const emu = h.fx.hub.emulator!;
      await waitFor(() => emu.messages(OPS).some((m) => m.text.includes('deploy 1.4.2 finished')));

      // B, another team with a token of its own, happens to (or means to) use the same key.
      const bBody = { group: ENG_ALIAS, text: 'PRODUCTION DATABASE IS DOWN', mentionAll: true };
      const bRes = await sendWithKey(b, key, bBody);
      expect(bRes.status).toBe(202);
      const bAnswer = (await bRes.json()) as { messageId: string; duplicate: boolean };
      expect(bAnswer.duplicate).toBe(false);
      expect(bAnswer.messageId).not.toBe(firstAnswer.messageId);
      await waitFor(
        () => emu.messages().some((m) => m.text.includes('PRODUCTION DATABASE IS DOWN')),
        5_000,
        "B's alert at the emulator",
      );

      // A retries the very same request: the first answer, nothing new sent.
      const retry = await sendWithKey(a, key, aBody);
      expect(retry.status).toBe(202);
      expect(await retry.json()).toMatchObject({ messageId: firstAnswer.messageId, duplicate: true });

      // A (or anyone holding A's token) reuses the key for a different request: refused, nothing written or sent.
      const before = await h.messageCount();
      const changed = await sendWithKey(a, key, {
        group: ENG_ALIAS,
        text: 'rollback 1.4.2',
        mentionAll: true,
      });
      expect(changed.status).toBe(409);
      expect(((await changed.json()) as { error: { code: string } }).error.code).toBe('idempotency_conflict');
      expect(await h.messageCount()).toBe(before);
      // A later message through the same dispatcher is delivered, the refused one never is.
      await sendWithKey(a, 'marker-1', { group: ENG_ALIAS, text: 'marker after the conflict' });
      await waitFor(() => emu.messages().some((m) => m.text.includes('marker after the conflict')));
      expect(emu.messages().filter((m) => m.text.includes('rollback 1.4.2'))).toHaveLength(0);
      expect(emu.messages().filter((m) => m.text.includes('deploy 1.4.2 finished'))).toHaveLength(1);
    }, 30_000);

    it('the body key and the header key are one key; the fingerprint ignores key order', async () => {
      h = await secureHub(backend);
      const a = await h.mint('team-a', ['send']);
      const r1 = await h.call(a, '/v1/messages', {
        json: { group: 'ops', text: 'order', idempotencyKey: 'k-order', mention: ['alice'] },
      });
      expect(r1.status).toBe(202);
      const id = ((await r1.json()) as { messageId: string }).messageId;
      // Same request, keys in another order and the key in the header: the same request.
      const r2 = await h.call(a, '/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'k-order' },
        body: '{"mention":["alice"],"text":"order","group":"ops"}',
      });
      expect(r2.status).toBe(202);
      expect(await r2.json()).toMatchObject({ messageId: id, duplicate: true });
      const r3 = await h.call(a, '/v1/messages', {
        json: { group: 'ops', text: 'order!', idempotencyKey: 'k-order', mention: ['alice'] },
      });
      expect(r3.status).toBe(409);
    }, 30_000);

    it('tasks: the same key from another token makes its own task; a changed task is 409 and creates nothing', async () => {
      h = await secureHub(backend);
      const a = await h.mint('team-a', ['send']);
      const b = await h.mint('team-b', ['send']);
      const key = 'incident-42';
      const task = { title: 'Investigate incident 42', assignees: ['alice'], group: 'ops' };
      const post = (t: string, body: unknown) =>
        h.call(t, '/v1/tasks', { json: body, headers: { 'idempotency-key': key } });

      const first = await post(a, task);
      expect(first.status).toBe(201);
      const firstTask = (await first.json()) as { id: number };
      const again = await post(a, task);
      expect(again.status).toBe(201);
      expect(((await again.json()) as { id: number }).id).toBe(firstTask.id);

      const other = await post(b, { title: 'Unrelated work of team B', assignees: ['bob'] });
      expect(other.status).toBe(201);
      const otherTask = (await other.json()) as { id: number; title: string };
      expect(otherTask.id).not.toBe(firstTask.id);
      expect(otherTask.title).toBe('Unrelated work of team B');

      const count = async () => (await h.fx.hub.listTasks({ limit: 1_000 })).length;
      const before = await count();
      const changed = await post(a, { ...task, title: 'Close incident 42 as not a bug' });
      expect(changed.status).toBe(409);
      expect(((await changed.json()) as { error: { code: string } }).error.code).toBe('idempotency_conflict');
      expect(await count()).toBe(before);
    }, 30_000);
  });
}

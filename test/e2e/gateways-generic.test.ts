/**
 * A generic JSON route: a header token, a person as the target (the app robot's 1:1 chat), a template override
 * read from its allow-listed directory, the sender's idempotency header as the dedupe key. SQLite and PostgreSQL.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hookApp } from './gateways-support.js';
import { backends, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const TOKEN = 'deploy-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'dingkit-hook-tpl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'deploy.liquid'),
  '### Deploy {{ body.service }} {{ body.version }}\n{% for c in body.changes limit: 3 %}- {{ c }}\n{% endfor %}By {{ body.by | default: "?" }}',
);

function config() {
  return testConfig({
    gateways: {
      flushMs: 20,
      routes: [
        {
          name: 'deploys',
          kind: 'generic',
          auth: { type: 'token', header: 'x-deploy-token', token: TOKEN },
          idempotencyHeader: 'x-delivery',
          targets: { people: ['Alice Chen'] },
          templates: { dir, event: 'deploy.liquid' },
        },
      ],
    },
  });
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`generic hooks (${backend.name})`, () => {
    it('a deploy event reaches Alice 1:1 in the route’s own template; its delivery id dedupes', async () => {
      const f = await startTestHub(backend, { config: config() });
      try {
        const { post } = hookApp(f.hub);
        const body = { service: 'billing', version: 'v2.1', changes: ['a', 'b', 'c', 'd'], by: 'ci' };
        const headers = { authorization: '', 'x-deploy-token': TOKEN, 'x-delivery': 'd-1' };
        expect((await post('/hooks/deploys', body, headers)).status).toBe(202);
        // The same delivery id with another body (a retry of one delivery is the same delivery): not sent again.
        const again = await post('/hooks/deploys', { ...body, version: 'v9' }, headers);
        expect(await again.json()).toMatchObject({ duplicate: true });
        const m = await waitFor(() =>
          f.hub.emulator!.messages('oto:alice').find((x) => x.text.includes('Deploy billing')),
        );
        expect(m.text).toContain('### Deploy billing v2.1\n- a\n- b\n- c\nBy ci');
        await f.hub.gateways!.flush();
        expect(
          f.hub.emulator!.messages('oto:alice').filter((x) => x.text.includes('Deploy billing')),
        ).toHaveLength(1);
        // A wrong token on this route is refused like any other.
        const wrong = await post('/hooks/deploys', body, {
          ...headers,
          'x-deploy-token': `${TOKEN}x`,
          'x-delivery': 'd-2',
        });
        expect(wrong.status).toBe(401);
      } finally {
        await f.cleanup();
      }
    });
  });
}

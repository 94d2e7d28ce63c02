/**
 * Attack: a due time in the past (1970) was accepted: the task is born overdue, its escalation fires at once and
 * its Todo carries a nonsense date. Defence: `due` earlier than now (less a minute of clock skew) is a 400
 * `due_in_past` on create and on edit, unless the caller says `allowPastDue: true` (an import of old work).
 */

import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { isDingTalkError } from '../../src/core/errors.js';
import { createApiServer } from '../../src/server/api-server.js';
import { createApiToken, MemoryApiTokenStore, StoreTokenVerifier } from '../../src/server/api-tokens.js';
import { backends, type HubApi, type HubFixture, hubApi, startTestHub } from '../e2e/hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

describe('due times in the past', () => {
  let fx: HubFixture;
  let app: HubApi['app'];
  let token = '';
  let clock = T0;
  const call = (method: string, path: string, body: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    fx = await startTestHub(sqlite, { now: () => clock });
    ({ app, token } = await hubApi(fx.hub));
  }, 60_000);

  afterAll(async () => {
    await fx?.cleanup();
  });

  it('refuses 1970 on create with 400 due_in_past, and creates nothing', async () => {
    const res = await call('POST', '/v1/tasks', {
      title: 'born overdue',
      assignees: ['lisi'],
      due: '1970-01-01T00:00:00Z',
    });
    const body = (await res.json()) as { error?: { code: string; message: string } };
    expect(res.status).toBe(400);
    expect(body.error?.code).toBe('due_in_past');
    expect((await fx.hub.listTasks({})).some((t) => t.title === 'born overdue')).toBe(false);
  });

  it('tolerates a minute of clock skew, not more', async () => {
    const ok = await call('POST', '/v1/tasks', {
      title: 'skew',
      assignees: ['lisi'],
      due: iso(clock - 30_000),
    });
    expect(ok.status).toBe(201);
    const late = await call('POST', '/v1/tasks', {
      title: 'late',
      assignees: ['lisi'],
      due: iso(clock - 90_000),
    });
    expect(late.status).toBe(400);
  });

  it('accepts a past due time when explicitly allowed', async () => {
    const res = await call('POST', '/v1/tasks', {
      title: 'imported',
      assignees: ['lisi'],
      due: '1970-01-01T00:00:00Z',
      allowPastDue: true,
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { due: string }).due).toBe('1970-01-01T00:00:00.000Z');
  });

  it('refuses a past due time on edit, unless allowed', async () => {
    const created = await call('POST', '/v1/tasks', { title: 'edit me', assignees: ['lisi'] });
    const { id } = (await created.json()) as { id: number };
    const res = await call('PATCH', `/v1/tasks/${id}`, { due: '1970-01-01T00:00:00Z' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('due_in_past');
    expect((await fx.hub.getTask(id))?.due).toBeUndefined();
    const allowed = await call('PATCH', `/v1/tasks/${id}`, {
      due: '1970-01-01T00:00:00Z',
      allowPastDue: true,
    });
    expect(allowed.status).toBe(200);
    const future = await call('PATCH', `/v1/tasks/${id}`, { due: iso(clock + 3_600_000) });
    expect(future.status).toBe(200);
  });

  it('the CLI refuses it (exit 1, due_in_past) unless --allow-past-due', async () => {
    const tokens = new MemoryApiTokenStore();
    const cliToken = (await createApiToken(tokens, 'cli', ['send', 'read'])).token;
    const server = await createApiServer(fx.hub, { port: 0, tokens: new StoreTokenVerifier(tokens) });
    const cli = async (...argv: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await runCli([...argv, '--json'], {
        stdout,
        stderr,
        stdin: new PassThrough(),
        env: { DINGKIT_URL: server.url, DINGKIT_TOKEN: cliToken },
        cwd: process.cwd(),
      });
      return { code, out };
    };
    try {
      const refused = await cli('task', 'assign', 'cli old', '--to', 'lisi', '--due', '1970-01-01T00:00:00Z');
      expect(refused.code).toBe(1);
      expect(refused.out).toContain('due_in_past');
      const ok = await cli(
        'task',
        'assign',
        'cli old',
        '--to',
        'lisi',
        '--due',
        '1970-01-01T00:00:00Z',
        '--allow-past-due',
      );
      expect(ok.code, ok.out).toBe(0);
      const id = String((JSON.parse(ok.out) as { id: number }).id);
      expect((await cli('task', 'edit', id, '--due', '1971-01-01T00:00:00Z')).code).toBe(1);
      expect((await cli('task', 'edit', id, '--due', '1971-01-01T00:00:00Z', '--allow-past-due')).code).toBe(
        0,
      );
    } finally {
      await server.close();
    }
  });

  it('the hub refuses it too (library callers), with a typed error', async () => {
    const e = await fx.hub
      .assignTask({ title: 'lib', assignees: ['lisi'], due: '1970-01-01T00:00:00Z' }, { by: 't' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isDingTalkError(e) && e.code === 'VALIDATION').toBe(true);
    expect((e as { reason?: string }).reason).toBe('due_in_past');
    clock += 1; // the hub's clock is the one that counts
    const ok = await fx.hub.assignTask(
      { title: 'lib ok', assignees: ['lisi'], due: '1970-01-01T00:00:00Z', allowPastDue: true },
      { by: 't' },
    );
    expect(ok.due).toBe('1970-01-01T00:00:00.000Z');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configRedactor } from '../../cli/secrets.js';
import { parseConfig } from '../config.js';
import { bodyGate, headerGate } from './auth.js';
import { hookRouteSchema } from './config.js';
import type { HookItem } from './items.js';
import { HOOK_KINDS } from './kinds.js';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'github');
const fixture = (name: string) =>
  JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;

const route = (extra: Record<string, unknown> = {}) =>
  hookRouteSchema.parse({ name: 'gh', kind: 'github', secret: 's'.repeat(20), ...extra });

const people: Record<string, string> = { 'zs-octo': 'zhangsan' };

/** The fixtures' events happened on 2026-12-05 around 05:40 UTC. */
const NOW = Date.parse('2026-12-05T06:00:00Z');

function parse(
  event: string | undefined,
  body: unknown,
  o: { delivery?: string | null; push?: boolean; now?: number } = {},
) {
  const headers: Record<string, string | undefined> = {
    'x-github-event': event,
    'x-github-delivery':
      o.delivery === null ? undefined : (o.delivery ?? 'd1f2a3b4-0000-11ee-8000-000000000001'),
  };
  return HOOK_KINDS.github.parse({
    body,
    raw: Buffer.from(JSON.stringify(body)),
    header: (h) => headers[h],
    route: route({ github: { push: o.push ?? false } }),
    githubPerson: (l) => people[l.toLowerCase()],
    locale: 'en',
    now: o.now ?? NOW,
    maxAgeMs: 7 * 86_400_000,
  });
}

function items(r: ReturnType<typeof parse>): HookItem[] {
  if (!r.ok) throw new Error(r.refusal.message);
  return r.parsed.items;
}

describe('github kind', () => {
  it('`secret:` stands for GitHub’s signature: HMAC-SHA256, X-Hub-Signature-256, sha256=<hex> (GitHub’s own vector)', () => {
    const auth = route().auth;
    expect(auth).toMatchObject({ type: 'hmac', header: 'x-hub-signature-256', prefix: 'sha256=' });
    // GitHub docs, "Validating webhook deliveries": this secret and payload give this signature.
    const vector = hookRouteSchema.parse({
      name: 'v',
      kind: 'github',
      secret: "It's a Secret to Everybody",
    }).auth;
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    const h = (v: string | undefined) => (n: string) => (n === 'x-hub-signature-256' ? v : undefined);
    expect(headerGate(vector, h(sig))).toBeUndefined();
    expect(bodyGate(vector, h(sig), Buffer.from('Hello, World!'), 0)).toBeUndefined();
    expect(bodyGate(vector, h(sig), Buffer.from('Hello, World?'), 0)).toBe('bad_signature');
    expect(bodyGate(vector, h(sig.replace('sha256=', 'sha1=')), Buffer.from('Hello, World!'), 0)).toBe(
      'bad_signature',
    );
    expect(headerGate(vector, h(undefined))).toBe('missing_signature');
  });

  it('a github route must check the signature: bearer or another header is refused at start', () => {
    expect(() =>
      hookRouteSchema.parse({ name: 'g', kind: 'github', auth: { type: 'bearer', token: 't'.repeat(20) } }),
    ).toThrow(/X-Hub-Signature-256/);
    expect(() =>
      hookRouteSchema.parse({ name: 'g', kind: 'github', auth: { type: 'hmac', secret: 's'.repeat(20) } }),
    ).toThrow(/X-Hub-Signature-256/);
    expect(() => hookRouteSchema.parse({ name: 'g', kind: 'github' })).toThrow(/auth/);
    expect(() => hookRouteSchema.parse({ name: 'g', kind: 'github', secret: 'short' })).toThrow(
      /"secret"[\s\S]*at least 16 characters/,
    );
    // `secret:` is GitHub's shorthand only.
    expect(() => hookRouteSchema.parse({ name: 'g', kind: 'generic', secret: 's'.repeat(20) })).toThrow();
  });

  it('the `secret:` shorthand is registered with the redactor like any hook secret', () => {
    const secret = 'gh-secret-0123456789abcdef';
    const config = parseConfig({ gateways: { routes: [{ name: 'gh', kind: 'github', secret }] } }, {});
    const out = configRedactor(config).redact(`signing with ${secret} failed`);
    expect(out).not.toContain(secret);
    expect(out).toContain('signing with');
  });

  it('one GitHub login is one person (case-insensitive), checked at start', () => {
    const p = (github: string) => ({ userId: `u-${github}`, github });
    expect(() => parseConfig({ people: { a: p('Octo'), b: p('octo') } }, {})).toThrow(
      /also the GitHub login of "a"/,
    );
    expect(() => parseConfig({ people: { a: p('bad login!') } }, {})).toThrow(/GitHub login/);
    expect(parseConfig({ people: { a: p('octo'), b: p('cat') } }, {}).people['a']?.github).toBe('octo');
  });

  it('deduped by X-GitHub-Delivery, which is required and checked; the event header is required', () => {
    const body = fixture('pull_request.review_requested');
    const a = parse('pull_request', body, { delivery: 'aaaa-1' });
    const b = parse('pull_request', body, { delivery: 'aaaa-2' });
    expect(a.ok && b.ok && a.parsed.dedupKey !== b.parsed.dedupKey).toBe(true);
    expect(a.ok && a.parsed.dedupKey).toBe('gh:aaaa-1');
    for (const [delivery, code] of [
      [null, 'missing_delivery'],
      ['', 'invalid_delivery'],
      ['a b', 'invalid_delivery'],
      ['x'.repeat(101), 'invalid_delivery'],
    ] as const) {
      const r = parse('pull_request', body, { delivery });
      expect(r.ok ? 'ok' : r.refusal.code).toBe(code);
    }
    const none = parse(undefined, body);
    expect(none.ok ? 'ok' : none.refusal.code).toBe('missing_event');
  });

  it('review_requested: the mapped reviewer is a mention, an unknown one is text, never guessed', () => {
    const body = fixture('pull_request.review_requested');
    const [pr] = items(parse('pull_request', body));
    expect(pr).toMatchObject({
      kind: 'event',
      mentions: ['zhangsan'],
      labels: { repo: 'octo-org/hello-world' },
    });
    expect(JSON.stringify(pr?.body)).toContain('https://github.com/octo-org/hello-world/pull/1347');
    const other = { ...body, requested_reviewer: { login: 'zhangsan' } };
    const [u] = items(parse('pull_request', other));
    // "zhangsan" is a directory key but not anyone's GitHub login: no mention.
    expect(u?.mentions).toEqual([]);
    expect(JSON.stringify(u?.body)).toContain('Reviewers not in the directory: zhangsan');
  });

  it('opened (drafts wait for ready_for_review); closed says merged or not; other actions and events and ping are ignored', () => {
    const body = fixture('pull_request.review_requested');
    const pr = body['pull_request'] as Record<string, unknown>;
    const merged = items(
      parse('pull_request', { ...body, action: 'closed', pull_request: { ...pr, merged: true } }),
    );
    expect(merged[0]?.labels['state']).toBe('merged');
    const closed = items(parse('pull_request', { ...body, action: 'closed' }));
    expect(closed[0]?.labels['state']).toBe('closed');
    const opened = items(parse('pull_request', { ...body, action: 'opened' }));
    expect(opened[0]?.labels['state']).toBe('opened');
    const draft = parse('pull_request', { ...body, action: 'opened', pull_request: { ...pr, draft: true } });
    expect(draft.ok && draft.parsed.ignored).toBe('pull_request opened (draft)');
    const ready = items(
      parse('pull_request', { ...body, action: 'ready_for_review', pull_request: { ...pr, draft: false } }),
    );
    expect(JSON.stringify(ready[0]?.body)).toContain('PR ready for review');
    for (const [event, b] of [
      ['pull_request', { ...body, action: 'labeled' }],
      ['star', { action: 'created' }],
      ['ping', fixture('ping')],
    ] as const) {
      const r = parse(event, b);
      expect(r.ok && r.parsed.items.length === 0 && r.parsed.ignored !== undefined).toBe(true);
    }
  });

  it('an event older than the hub keeps delivery ids is refused (a replay past the dedupe window)', () => {
    const week = 7 * 86_400_000;
    for (const name of ['pull_request.review_requested', 'issues.assigned', 'workflow_run.failure', 'push']) {
      const event = name.split('.')[0]!;
      const fresh = parse(event, fixture(name), { push: true, now: NOW + week - 3_600_000 });
      expect(fresh.ok ? 'ok' : fresh.refusal.code).toBe('ok');
      const old = parse(event, fixture(name), { push: true, now: NOW + week + 3_600_000 });
      expect(old.ok ? 'ok' : old.refusal.code).toBe('stale_delivery');
    }
  });

  it('a payload missing a used field is refused naming it', () => {
    const body = fixture('pull_request.review_requested');
    const r = parse('pull_request', { ...body, number: 'x' });
    expect(r.ok ? 'ok' : r.refusal.message).toMatch(/^number: /);
    const w = parse('workflow_run', { action: 'completed', repository: body['repository'] });
    expect(w.ok ? 'ok' : w.refusal.message).toMatch(/^workflow_run: /);
    const arr = parse('issues', [1, 2]);
    expect(arr.ok ? 'ok' : arr.refusal.code).toBe('invalid_payload');
  });

  it('issues → task ops for the mapped people; unknown logins kept apart', () => {
    const body = fixture('issues.assigned');
    const [a] = items(parse('issues', body));
    expect(a?.task).toMatchObject({
      op: 'assign',
      repo: 'octo-org/hello-world',
      number: 1296,
      people: ['zhangsan'],
    });
    const [u] = items(parse('issues', { ...body, assignee: { login: 'octocat' } }));
    expect(u?.task).toMatchObject({ people: [], unknown: ['octocat'] });
    expect(items(parse('issues', { ...body, action: 'closed' }))[0]?.task?.op).toBe('close');
    expect(items(parse('issues', { ...body, action: 'reopened' }))[0]?.task?.op).toBe('reopen');
    expect(items(parse('issues', { ...body, action: 'unassigned' }))[0]?.task?.op).toBe('unassign');
    const opened = parse('issues', { ...body, action: 'opened' });
    expect(opened.ok && opened.parsed.items.length).toBe(0);
  });

  it('workflow_run: a failure fires per workflow and branch with the run’s link; a success resolves only what fired', () => {
    const body = fixture('workflow_run.failure');
    const [f] = items(parse('workflow_run', body));
    expect(f).toMatchObject({
      kind: 'firing',
      fingerprint: 'gh-run:octo-org/hello-world:159038:main',
      generatorURL: 'https://github.com/octo-org/hello-world/actions/runs/30433642',
      mentions: ['zhangsan'],
    });
    const run = body['workflow_run'] as Record<string, unknown>;
    const [ok] = items(parse('workflow_run', { ...body, workflow_run: { ...run, conclusion: 'success' } }));
    expect(ok).toMatchObject({ kind: 'resolved', fingerprint: f?.fingerprint, onlyIfFiring: true });
    for (const patch of [{ conclusion: 'cancelled' }, { conclusion: null, status: 'in_progress' }]) {
      const r = parse('workflow_run', { ...body, workflow_run: { ...run, ...patch } });
      expect(r.ok && r.parsed.items.length).toBe(0);
    }
  });

  it('push: a summary only where the route enables it; a deleted branch says nothing', () => {
    const body = fixture('push');
    const off = parse('push', body);
    expect(off.ok && off.parsed.items.length).toBe(0);
    const [p] = items(parse('push', body, { push: true }));
    const text = JSON.stringify(p?.body);
    expect(text).toContain('Push to octo-org/hello-world main: 2 commits');
    expect(text).toContain('compare/9049f1265b7d...acb5820ced94');
    expect(text).toContain('acb5820');
    const del = parse('push', { ...body, deleted: true }, { push: true });
    expect(del.ok && del.parsed.items.length).toBe(0);
  });
});

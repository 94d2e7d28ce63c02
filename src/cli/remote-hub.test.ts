import { describe, expect, it } from 'vitest';
import { HubApiError, HubUnreachableError, RemoteHub } from './remote-hub.js';

const fakeFetch = (status: number, body: string, seen: Request[] = []) =>
  (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return new Response(body, { status, headers: { 'content-type': 'text/html' } });
  }) as typeof fetch;

describe('RemoteHub', () => {
  it('maps an API error body to HubApiError with its code and message', async () => {
    const hub = new RemoteHub('http://h', 't', {
      fetch: fakeFetch(
        409,
        '{"error":{"code":"invalid_transition","message":"cannot start a task that is done"}}',
      ),
    });
    const e = await hub.actOnTask(1, 'start', { by: 'cli' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HubApiError);
    expect(e).toMatchObject({
      status: 409,
      code: 'invalid_transition',
      message: 'cannot start a task that is done',
    });
  });

  it('edits with PATCH /v1/tasks/{id}, nulls kept in the JSON body; a 409 stays a 409', async () => {
    const seen: Request[] = [];
    const hub = new RemoteHub('http://h', 'dk_tok', { fetch: fakeFetch(200, '{"id":4}', seen) });
    await hub.updateTask(4, { title: 'T', due: null, addAssignees: ['Bob'] }, { by: 'cli' });
    expect(seen[0]!.method).toBe('PATCH');
    expect(seen[0]!.url).toBe('http://h/v1/tasks/4');
    expect(seen[0]!.headers.get('content-type')).toBe('application/json');
    expect(await seen[0]!.json()).toEqual({ title: 'T', due: null, addAssignees: ['Bob'] });
    const closed = new RemoteHub('http://h', 't', {
      fetch: fakeFetch(409, '{"error":{"code":"task_closed","message":"cannot edit a task that is done"}}'),
    });
    await expect(closed.updateTask(4, { title: 'x' }, { by: 'cli' })).rejects.toMatchObject({
      status: 409,
      code: 'task_closed',
    });
  });

  it('survives a non-JSON error page from a proxy', async () => {
    const hub = new RemoteHub('http://h', 't', { fetch: fakeFetch(502, '<html>Bad Gateway</html>') });
    await expect(hub.listPeople()).rejects.toMatchObject({
      status: 502,
      code: 'http_502',
      message: 'HTTP 502',
    });
  });

  it('turns a 404 not_found into undefined for lookups, but not an unknown route', async () => {
    const missing = new RemoteHub('http://h', 't', {
      fetch: fakeFetch(404, '{"error":{"code":"not_found","message":"no task #9"}}'),
    });
    expect(await missing.getTask(9)).toBeUndefined();
    const wrong = new RemoteHub('http://h', 't', { fetch: fakeFetch(404, 'nope') });
    await expect(wrong.getTask(9)).rejects.toBeInstanceOf(HubApiError);
  });

  it('sends the token, the idempotency key as a header, and strips a trailing /v1 from the base', async () => {
    const seen: Request[] = [];
    const hub = new RemoteHub('http://h:1/v1/', 'dk_tok', {
      fetch: fakeFetch(202, '{"messageId":"m","duplicate":false,"deliveries":[]}', seen),
    });
    await hub.sendMessage({ group: 'ops', text: 'x', idempotencyKey: 'k1' }, { by: 'cli' });
    const req = seen[0]!;
    expect(req.url).toBe('http://h:1/v1/messages');
    expect(req.headers.get('authorization')).toBe('Bearer dk_tok');
    expect(req.headers.get('idempotency-key')).toBe('k1');
    expect(await req.json()).toEqual({ group: 'ops', text: 'x' });
  });

  it('reports an unreachable hub as HubUnreachableError with the cause', async () => {
    const hub = new RemoteHub('http://127.0.0.1:59999', undefined, { timeoutMs: 2_000 });
    const e = await hub.listPeople().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HubUnreachableError);
    expect((e as Error).message).toContain('ECONNREFUSED');
  });
});

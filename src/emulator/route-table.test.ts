import { describe, expect, it } from 'vitest';
import type { Reply } from './http-io.js';
import { RouteTable } from './route-table.js';

const h = (): Reply => ({ status: 200, body: {} });

describe('RouteTable', () => {
  it('matches exact routes, params (decoded), and reports allowed methods', () => {
    const r = new RouteTable()
      .add('POST', '/robot/send', h)
      .add('GET', '/v1.0/todo/users/:u/tasks/:t', h)
      .add('PUT', '/v1.0/todo/users/:u/tasks/:t', h);
    expect(r.match('POST', '/robot/send')).toMatchObject({ kind: 'ok', route: { id: 'POST /robot/send' } });
    expect(r.match('GET', '/robot/send')).toEqual({ kind: 'method', allowed: ['POST'] });
    expect(r.match('PUT', '/v1.0/todo/users/u%3D1/tasks/t2')).toMatchObject({
      kind: 'ok',
      params: { u: 'u=1', t: 't2' },
    });
    expect(r.match('DELETE', '/v1.0/todo/users/u/tasks/t')).toEqual({
      kind: 'method',
      allowed: ['GET', 'PUT'],
    });
    expect(r.match('GET', '/v1.0/todo/users//tasks/t')).toEqual({ kind: 'none' });
    expect(r.match('GET', '/v1.0/todo/users/%E0%A4%A/tasks/t')).toEqual({ kind: 'none' });
    expect(r.match('GET', '/nope')).toEqual({ kind: 'none' });
  });
});

/**
 * The emulator's one origin: a raw node:http server that serves the oapi routes, the v1.0 routes, the Stream
 * gateway (open call + WebSocket upgrade) and the `/_emulator/` control API. The host is told
 * apart by path, as both real hosts share nothing: `/v1.0/...` follows api.dingtalk.com rules, `/_emulator/...`
 * is ours, everything else follows oapi.dingtalk.com rules.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { hostAllowed } from '../core/allowed-hosts.js';
import { controlRefusal } from './control/guard.js';
import { type FaultDecision, FaultPlan } from './faults.js';
import { apiErr, type Ctx, makeCtx, oapiErr, type Reply } from './http-io.js';
import type { RouteTable } from './route-table.js';
import type { EmulatorState } from './state.js';
import type { StreamGateway } from './stream/gateway.js';
import type { FaultKind } from './types.js';

export interface ServerDeps {
  state: EmulatorState;
  routes: RouteTable;
  gateway: StreamGateway;
  faults: FaultPlan;
  logRequests: boolean;
  origin: () => string;
  /** Extra Host names answered (EmulatorOptions.allowedHosts). */
  allowedHosts: readonly string[];
}

const JSON_TYPE = 'application/json;charset=utf-8';

export function createEmulatorServer(deps: ServerDeps): { server: Server; hanging: Set<ServerResponse> } {
  const { state, routes, gateway, faults } = deps;
  const hanging = new Set<ServerResponse>();

  const send = (res: ServerResponse, reply: Reply): void => {
    if (res.destroyed || res.headersSent) return;
    const text =
      typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
    try {
      res.writeHead(reply.status, {
        ...reply.headers,
        'content-type': reply.contentType ?? JSON_TYPE,
        'content-length': Buffer.byteLength(text),
      });
    } catch {
      // A header value Node refuses (CR/LF from stored input) must not become an unhandled rejection that ends
      // the process: answer 500 instead.
      state.handlerErrors++;
      const body = '{"error":"invalid response header"}';
      res.writeHead(500, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    res.end(text);
  };

  const log = (ctx: Ctx, route: string, started: number, status: number, code: number | string): void => {
    if (!deps.logRequests || ctx.path.startsWith('/_emulator/')) return;
    state.logRequest({
      seq: ctx.seq,
      at: started,
      method: ctx.method,
      route,
      path: ctx.path,
      status,
      code,
      ...(ctx.robot !== undefined ? { robot: ctx.robot } : {}),
      ...(ctx.fault !== undefined ? { fault: ctx.fault } : {}),
      durationMs: state.now() - started,
    });
  };

  const recordFault = (ctx: Ctx, route: string, kind: FaultKind, accepted: boolean): void => {
    state.faultLog.push({
      seq: state.faultLog.length + 1,
      at: state.now(),
      request: ctx.seq,
      route,
      ...(ctx.robot !== undefined ? { robot: ctx.robot } : {}),
      kind,
      accepted,
      ...(ctx.message !== undefined ? { message: ctx.message.seq } : {}),
    });
  };

  const reset = (req: IncomingMessage): void => {
    const s = req.socket as Socket & { resetAndDestroy?: () => void };
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
    else s.destroy();
  };

  const run = async (ctx: Ctx, handler: (c: Ctx) => Reply | Promise<Reply>): Promise<Reply> => {
    try {
      return await handler(ctx);
    } catch {
      state.handlerErrors++;
      // A handler bug must not crash the process (bad input → an answer, never a crash); 500 in the host's shape.
      return ctx.path.startsWith('/v1.0/')
        ? apiErr(ctx, 500, 'system.error', 'system error')
        : oapiErr(-1, '系统繁忙');
    }
  };

  const handle = async (
    ctx: Ctx,
    routeId: string,
    handler: (c: Ctx) => Reply | Promise<Reply>,
    early: FaultDecision | undefined,
    started: number,
    res: ServerResponse,
  ): Promise<void> => {
    const control = ctx.path.startsWith('/_emulator/');
    let decision = early;
    if (decision === undefined && !control && faults.active) {
      const robot = robotHint(ctx);
      ctx.robot = robot?.name;
      decision = faults.decide(routeId, ctx.path, robot?.name, robot?.aliases);
    }
    const kind = decision?.kind;
    if (kind !== undefined && kind !== 'latency') ctx.fault = kind;
    if (decision && decision.latencyMs > 0) await new Promise((r) => setTimeout(r, decision.latencyMs));

    if (kind === 'reset_before') {
      recordFault(ctx, routeId, kind, false);
      log(ctx, routeId, started, 0, 'reset_before');
      reset(ctx.req);
      return;
    }
    if (kind === 'error_5xx' || kind === 'throttle') {
      const reply = kind === 'error_5xx' ? serverError(ctx) : throttled(ctx);
      if (kind === 'throttle' && ctx.path === '/robot/send') {
        // A throttled robot stays blocked for the penalty (docs/dingtalk.md §2.6), so a client that ignores it meets real refusals.
        const token = ctx.query.get('access_token') ?? '';
        if (state.robots.has(token))
          state.robotWindow(token).block(state.now() + state.limits.robotPenaltyMs);
      }
      recordFault(ctx, routeId, kind, false);
      log(ctx, routeId, started, reply.status, reply.code ?? '');
      send(res, reply);
      return;
    }
    if (kind === 'hang' || kind === 'reset_after') {
      let reply: Reply | undefined;
      if (decision?.acceptFirst) reply = await run(ctx, handler);
      recordFault(
        ctx,
        routeId,
        kind,
        decision?.acceptFirst === true && reply !== undefined && isSuccess(reply),
      );
      log(ctx, routeId, started, 0, kind);
      if (kind === 'reset_after') reset(ctx.req);
      else {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
      }
      return;
    }
    const reply = await run(ctx, handler);
    if (kind === 'latency') recordFault(ctx, routeId, kind, isSuccess(reply));
    log(ctx, routeId, started, reply.status, reply.code ?? '');
    send(res, reply);
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    // DNS rebinding: a page whose name now points at loopback must not drive the control API or read the org.
    if (!hostAllowed(req.headers.host, deps.allowedHosts)) {
      send(res, { status: 403, body: { error: 'host not allowed' }, code: 'host_not_allowed' });
      return;
    }
    const started = state.now();
    const seq = state.nextRequestSeq();
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const query = new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1));
    const method = req.method ?? 'GET';
    if (path.startsWith('/_emulator/')) {
      const refused = controlRefusal(req, method, deps.origin());
      if (refused) {
        req.resume();
        send(res, refused);
        return;
      }
    }
    const match = routes.match(method, path);
    const ip = unmap(req.socket.remoteAddress ?? '');
    let routeId = 'unknown';
    let handler: (c: Ctx) => Reply | Promise<Reply> = unknownRoute;
    let params: Record<string, string> = {};
    if (match.kind === 'ok') {
      routeId = match.route.id;
      handler = match.route.handler;
      params = match.params;
    } else if (match.kind === 'method') {
      routeId = `${match.allowed[0] ?? 'GET'} ${path}`;
      handler = (c) => wrongMethod(c, match.allowed);
    }

    // Decide before reading the body when the body cannot matter (a rule without a robot filter, or a webhook
    // whose robot is named by the query): a reset then really happens before the request is read.
    let early: FaultDecision | undefined;
    if (faults.active && !path.startsWith('/_emulator/') && (!faults.needsRobot || path === '/robot/send')) {
      const robot = path === '/robot/send' ? state.robots.get(query.get('access_token') ?? '') : undefined;
      early = faults.decide(routeId, path, robot?.name, robot ? [robot.token] : []);
      if (early.kind === 'reset_before') {
        const ctx = makeCtx({
          req,
          method,
          path,
          query,
          params,
          raw: Buffer.alloc(0),
          state,
          seq,
          ip,
          origin: deps.origin(),
          contentType: '',
        });
        ctx.robot = robot?.name;
        void handle(ctx, routeId, handler, early, started, res);
        return;
      }
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > state.limits.maxBodyBytes) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', () => {});
    req.on('end', () => {
      const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const ctx = makeCtx({
        req,
        method,
        path,
        query,
        params,
        raw,
        state,
        seq,
        ip,
        origin: deps.origin(),
        contentType: String(req.headers['content-type'] ?? ''),
      });
      if (early)
        ctx.robot =
          path === '/robot/send' ? state.robots.get(query.get('access_token') ?? '')?.name : undefined;
      if (tooBig) {
        const reply = path.startsWith('/v1.0/')
          ? apiErr(ctx, 413, 'RequestEntityTooLarge', 'request body too large')
          : oapiErr(40000, 'request body too large');
        log(ctx, routeId, started, reply.status, reply.code ?? '');
        send(res, reply);
        return;
      }
      void handle(ctx, routeId, handler, early, started, res);
    });
  });

  server.on('upgrade', (req, socket, head) => {
    if (!hostAllowed(req.headers.host, deps.allowedHosts)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (!gateway.handleUpgrade(req, socket, head)) socket.destroy();
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return { server, hanging };
}

function robotHint(ctx: Ctx): { name: string; aliases: string[] } | undefined {
  if (ctx.path === '/robot/send') {
    const r = ctx.state.robots.get(ctx.query.get('access_token') ?? '');
    return r ? { name: r.name, aliases: [r.token] } : undefined;
  }
  if (ctx.path.startsWith('/v1.0/robot/') || ctx.path.startsWith('/v1.0/card/')) {
    const j = ctx.json();
    const code =
      j !== null && typeof j === 'object' ? (j as Record<string, unknown>)['robotCode'] : undefined;
    if (typeof code === 'string') return { name: code, aliases: [] };
    const deliver =
      j !== null && typeof j === 'object'
        ? (j as Record<string, unknown>)['imGroupOpenDeliverModel']
        : undefined;
    const dc =
      deliver !== null && typeof deliver === 'object'
        ? (deliver as Record<string, unknown>)['robotCode']
        : undefined;
    if (typeof dc === 'string') return { name: dc, aliases: [] };
  }
  return undefined;
}

function isSuccess(r: Reply): boolean {
  return r.status === 200 && (r.code === 0 || r.code === '' || r.code === undefined);
}

function serverError(ctx: Ctx): Reply {
  if (ctx.path.startsWith('/v1.0/'))
    return apiErr(
      ctx,
      503,
      'ServiceUnavailable',
      'The request has failed due to a temporary failure of the server.',
    );
  // A gateway in front of oapi answers 5xx with an HTML page, not an errcode body.
  return {
    status: 502,
    body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
    contentType: 'text/html',
    code: 502,
  };
}

function throttled(ctx: Ctx): Reply {
  if (ctx.path.startsWith('/v1.0/')) {
    return apiErr(
      ctx,
      403,
      'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
      '应用调用该接口的并发量超过限制',
    );
  }
  if (ctx.path === '/robot/send' || ctx.path === '/robot/sendBySession') {
    return oapiErr(ctx.state.limits.robotThrottleErrcode, 'send too fast, exceed 20 times per minute');
  }
  return oapiErr(90018, '当前企业该应用调用该接口的并发量超过限制');
}

/** Unknown paths answered as DingTalk does (§0.1): topapi errcode 22, oapi errcode 404, api HTTP 404. */
function unknownRoute(ctx: Ctx): Reply {
  if (ctx.path.startsWith('/_emulator/'))
    return { status: 404, body: { error: 'unknown control route' }, code: 'not_found' };
  if (ctx.path.startsWith('/v1.0/')) {
    // The production code for an unknown /v1.0 path is unverified (§0.1); this is the gateway's usual shape.
    return apiErr(
      ctx,
      404,
      'InvalidAction.NotFound',
      'Specified api is not found, please check your url and method.',
    );
  }
  if (ctx.path.startsWith('/topapi/'))
    return oapiErr(22, 'Invalid method', { request_id: `emu${ctx.seq.toString(16)}` });
  return oapiErr(404, '请求的URI地址不存在');
}

function wrongMethod(ctx: Ctx, allowed: string[]): Reply {
  if (ctx.path.startsWith('/_emulator/'))
    return { status: 405, body: { error: `use ${allowed.join(' or ')}` }, code: 'method' };
  if (ctx.path.startsWith('/v1.0/')) return unknownRoute(ctx);
  return allowed.includes('GET') ? oapiErr(43001, '需要GET请求') : oapiErr(43002, '需要POST请求');
}

function unmap(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export { FaultPlan };

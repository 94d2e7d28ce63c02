/**
 * The inspection and control API under `/_emulator/` (docs/emulator.md). Plain JSON in and
 * out; bad input → 4xx `{error}`. Every operation is also a method on `Emulator` for in-process tests.
 */
import { TOPIC_BOT_MESSAGE } from '../../stream/types.js';
import { ActingError } from '../acting.js';
import type { AttachmentInput } from '../attachments.js';
import { validateRules } from '../faults.js';
import { type Ctx, ctlErr, ctlOk, isObject, type Reply } from '../http-io.js';
import type { Emulator } from '../instance.js';
import type { RouteTable } from '../route-table.js';
import type { EmulatorFaults } from '../types.js';

export function registerControlRoutes(routes: RouteTable, emu: Emulator): void {
  const body = (ctx: Ctx): Record<string, unknown> | undefined => {
    const j = ctx.json();
    return isObject(j) ? j : ctx.raw.length === 0 ? {} : undefined;
  };
  const guard = async (fn: () => unknown): Promise<Reply> => {
    try {
      return ctlOk(await fn());
    } catch (e) {
      if (e instanceof ActingError) return ctlErr(e.status, e.message);
      if (e instanceof TypeError) return ctlErr(400, e.message);
      throw e;
    }
  };
  const num = (v: string | null): number | undefined => {
    if (v === null || v === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };

  // Up or not, nothing more: counters and the rest are at /_emulator/stats (docs/emulator.md "Health").
  routes.add('GET', '/_emulator/health', () => ctlOk({ ok: true }));
  routes.add('GET', '/_emulator/org', () => ctlOk(emu.state.org));
  routes.add('GET', '/_emulator/stats', () => {
    const st = emu.state;
    return ctlOk({
      requests: st.nextRequestSeqPeek(),
      messages: st.messages.length,
      notices: st.notices.length,
      media: st.media.size,
      todos: st.todos.size,
      cards: st.cards.size,
      faults: st.faultLog.length,
      handlerErrors: st.handlerErrors,
      stream: emu.gateway.stats(),
    });
  });
  routes.add('GET', '/_emulator/robots', () =>
    ctlOk(
      emu.state.org.customRobots.map((r) => ({
        name: r.name,
        group: r.group,
        security: r.security,
        webhook: emu.webhookUrl(r.name, { sign: false }),
        blockedUntil: emu.state.windows.get(r.token)?.blockedUntil ?? 0,
      })),
    ),
  );
  routes.add('GET', '/_emulator/robots/:name/webhook', (ctx) =>
    guard(() => {
      if (!emu.state.robotsByName.has(ctx.params['name'] ?? '')) throw new ActingError(404, 'unknown robot');
      return { url: emu.webhookUrl(ctx.params['name'] ?? '') };
    }),
  );
  routes.add('GET', '/_emulator/requests', (ctx) => {
    const route = ctx.query.get('route');
    const since = num(ctx.query.get('since'));
    return ctlOk(emu.requests({ ...(route ? { route } : {}), ...(since !== undefined ? { since } : {}) }));
  });
  routes.add('GET', '/_emulator/messages', (ctx) => {
    const conv = ctx.query.get('conversation');
    const since = num(ctx.query.get('since')) ?? 0;
    return ctlOk(emu.messages(conv ?? undefined).filter((m) => m.seq > since));
  });
  routes.add('GET', '/_emulator/notices', (ctx) => ctlOk(emu.notices(ctx.query.get('user') ?? undefined)));
  routes.add('GET', '/_emulator/todos', () => ctlOk(emu.todos()));
  routes.add('GET', '/_emulator/media', () => ctlOk([...emu.state.media.values()]));
  routes.add('GET', '/_emulator/cards', () => ctlOk([...emu.state.cards.values()]));
  routes.add('GET', '/_emulator/callbacks', () => ctlOk(emu.acting.callbacks));
  // Temporary download URLs handed out by /v1.0/robot/messageFiles/download (docs/dingtalk.md §3.1), and the
  // bytes of uploaded media by mediaId (the emulated client's link on a file message).
  routes.add('GET', '/_emulator/files/:code', (ctx) => {
    const code = ctx.params['code'] ?? '';
    const d = emu.state.downloads.get(code) ?? mediaDownload(emu, code);
    if (!d) return ctlErr(404, 'unknown download');
    // The sender chose the bytes and the type: a download, never a page of this origin (which holds the control
    // API and /_emulator/org), so no sniffing, no rendering, a sandbox, and the name percent-encoded (RFC 6266).
    return {
      status: 200,
      body: d.bytes,
      contentType: d.contentType,
      headers: {
        'content-disposition': `attachment; filename*=UTF-8''${encodeRfc5987(d.fileName)}`,
        'x-content-type-options': 'nosniff',
        'content-security-policy': "sandbox; default-src 'none'",
      },
    };
  });
  routes.add('GET', '/_emulator/stream/log', () => ctlOk(emu.gateway.log()));
  routes.add('GET', '/_emulator/stream/stats', () => ctlOk(emu.gateway.stats()));

  routes.add('POST', '/_emulator/groups/:openConversationId/messages', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      const r = emu.postMessage(ctx.params['openConversationId'] ?? '', {
        from: b['from'] as string,
        text: b['text'] as string,
        ...(b['atBot'] === true ? { atBot: true } : {}),
        ...(typeof b['robotCode'] === 'string' ? { robotCode: b['robotCode'] } : {}),
        ...(Array.isArray(b['atUserIds']) ? { atUserIds: b['atUserIds'] as string[] } : {}),
        ...(isObject(b['picture']) ? { picture: b['picture'] as unknown as AttachmentInput } : {}),
      });
      return r;
    }),
  );
  // Org changes people make in the client: dissolve a group (→ 400013 / group.disbanded), disable a custom robot
  // (→ 400102), add or remove group members.
  routes.add('POST', '/_emulator/groups/:openConversationId/dissolve', (ctx) =>
    guard(() => {
      const g = emu.state.groups.get(ctx.params['openConversationId'] ?? '');
      if (!g) throw new ActingError(404, 'unknown group');
      g.dissolved = true;
      return g;
    }),
  );
  routes.add('PUT', '/_emulator/groups/:openConversationId/members', (ctx) =>
    guard(() => {
      const g = emu.state.groups.get(ctx.params['openConversationId'] ?? '');
      const b = body(ctx);
      if (!g) throw new ActingError(404, 'unknown group');
      const members = b?.['members'];
      if (!Array.isArray(members) || !members.every((m) => typeof m === 'string' && emu.state.users.has(m))) {
        throw new ActingError(400, 'members must be known userIds');
      }
      g.members = [...new Set(members as string[])];
      return g;
    }),
  );
  routes.add('PUT', '/_emulator/robots/:name', (ctx) =>
    guard(() => {
      const r = emu.state.robotsByName.get(ctx.params['name'] ?? '');
      const b = body(ctx);
      if (!r) throw new ActingError(404, 'unknown robot');
      if (!b || (b['disabled'] !== undefined && typeof b['disabled'] !== 'boolean')) {
        throw new ActingError(400, 'disabled must be a boolean');
      }
      if (typeof b['disabled'] === 'boolean') r.disabled = b['disabled'];
      return { name: r.name, disabled: r.disabled === true };
    }),
  );
  routes.add('POST', '/_emulator/users/:userId/messages', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      return emu.postDirect(ctx.params['userId'] ?? '', {
        ...(typeof b['text'] === 'string' ? { text: b['text'] } : {}),
        ...(typeof b['robotCode'] === 'string' ? { robotCode: b['robotCode'] } : {}),
        ...(isObject(b['picture']) ? { picture: b['picture'] as unknown as AttachmentInput } : {}),
        ...(isObject(b['file']) ? { file: b['file'] as unknown as AttachmentInput } : {}),
      });
    }),
  );
  // What `dd.requestAuthCode` gives a page inside DingTalk (docs/dingtalk.md §13.2): a one-time 免登 code.
  routes.add('POST', '/_emulator/users/:userId/auth-code', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      if (b['appKey'] !== undefined && typeof b['appKey'] !== 'string') {
        throw new ActingError(400, 'appKey must be a string');
      }
      const appKey = b['appKey'] as string | undefined;
      return { code: emu.authCode(ctx.params['userId'] ?? '', appKey !== undefined ? { appKey } : {}) };
    }),
  );
  routes.add('POST', '/_emulator/messages/:seq/read', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      return emu.markRead(Number(ctx.params['seq']), b['by'] as string);
    }),
  );
  routes.add('POST', '/_emulator/notices/:taskId/read', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      const taskId = Number(ctx.params['taskId']);
      if (!Number.isSafeInteger(taskId)) throw new ActingError(400, 'taskId must be a number');
      return emu.readNotice(taskId, b['by'] as string);
    }),
  );
  routes.add('POST', '/_emulator/cards/:outTrackId/click', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      return emu.clickCard(ctx.params['outTrackId'] ?? '', {
        by: b['by'] as string,
        ...(Array.isArray(b['actionIds']) ? { actionIds: b['actionIds'] as string[] } : {}),
        ...(isObject(b['params']) ? { params: b['params'] } : {}),
      });
    }),
  );
  routes.add('POST', '/_emulator/todos/:id/done', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      return emu.markTodoDone(ctx.params['id'] ?? '', b['by'] as string);
    }),
  );
  routes.add('POST', '/_emulator/events', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      const via = b['via'];
      if (via !== undefined && via !== 'stream' && via !== 'http' && via !== 'both') {
        throw new ActingError(400, 'via must be stream, http or both');
      }
      return emu.fireEvent({
        eventType: b['eventType'] as string,
        ...(typeof b['appKey'] === 'string' ? { appKey: b['appKey'] } : {}),
        ...(isObject(b['data']) ? { data: b['data'] } : {}),
        ...(via !== undefined ? { via } : {}),
        ...(typeof b['eventId'] === 'string' ? { eventId: b['eventId'] } : {}),
      });
    }),
  );
  routes.add('POST', '/_emulator/callbacks/push', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b || typeof b['eventType'] !== 'string') throw new ActingError(400, 'eventType is required');
      return emu.pushCallback({
        eventType: b['eventType'],
        ...(typeof b['appKey'] === 'string' ? { appKey: b['appKey'] } : {}),
        ...(typeof b['url'] === 'string' ? { url: b['url'] } : {}),
        ...(isObject(b['data']) ? { data: b['data'] } : {}),
      });
    }),
  );
  // Like saving the subscription in the developer console (§9b): a `check_url` push must be answered with the
  // encrypted `success` before the URL is kept (`verify: false` skips the check).
  routes.add('PUT', '/_emulator/apps/:appKey/callback', (ctx) =>
    guard(async () => {
      const app = emu.state.apps.get(ctx.params['appKey'] ?? '');
      const b = body(ctx);
      if (!app) throw new ActingError(404, 'unknown app');
      if (!b || typeof b['url'] !== 'string') throw new ActingError(400, 'url is required');
      const token = typeof b['token'] === 'string' ? b['token'] : app.callback?.token;
      const aesKey = typeof b['aesKey'] === 'string' ? b['aesKey'] : app.callback?.aesKey;
      if (token === undefined || !/^[A-Za-z0-9]{3,32}$/.test(token)) {
        throw new ActingError(400, 'token must be 3-32 letters or digits (§9b)');
      }
      if (aesKey === undefined || !/^[A-Za-z0-9]{43}$/.test(aesKey)) {
        throw new ActingError(400, 'aesKey must be 43 letters or digits (§9b)');
      }
      const previous = app.callback;
      app.callback = { token, aesKey, url: b['url'] };
      if (b['verify'] !== false) {
        const check = await emu.pushCallback({ appKey: app.appKey, eventType: 'check_url' });
        if (!check.ok) {
          if (previous) app.callback = previous;
          else delete app.callback;
          throw new ActingError(409, `check_url failed: ${check.result}`);
        }
      }
      return { appKey: app.appKey, url: b['url'] };
    }),
  );
  routes.add('GET', '/_emulator/faults', () => ctlOk(emu.faults()));
  routes.add('PUT', '/_emulator/faults', (ctx) =>
    guard(() => {
      const b = body(ctx);
      if (!b) throw new ActingError(400, 'body must be a JSON object');
      const err = validateRules(b['rules'] ?? []);
      if (err) throw new ActingError(400, err);
      if (b['seed'] !== undefined && typeof b['seed'] !== 'number')
        throw new ActingError(400, 'seed must be a number');
      if (b['stream'] !== undefined && !isObject(b['stream']))
        throw new ActingError(400, 'stream must be an object');
      const cbf = b['callbacks'];
      if (cbf !== undefined) {
        const rate = isObject(cbf) ? cbf['repushAnsweredRate'] : undefined;
        if (!isObject(cbf) || (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)))
          throw new ActingError(400, 'callbacks must be an object; repushAnsweredRate a number in 0..1');
      }
      emu.setFaults(b as EmulatorFaults);
      return emu.faults();
    }),
  );
  routes.add('GET', '/_emulator/faults/log', () => ctlOk(emu.faultLog()));
  routes.add('POST', '/_emulator/tokens/expire', () => ctlOk({ expired: emu.expireTokens() }));
  routes.add('GET', '/_emulator/tokens', () => ctlOk(emu.tokenStats()));
  routes.add('POST', '/_emulator/tokens/hold', (ctx) =>
    guard(() => {
      const b = body(ctx);
      const count = b?.['count'] ?? 1;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 1_000) {
        throw new ActingError(400, 'count must be an integer 0..1000');
      }
      emu.holdTokens(count);
      return emu.tokenStats();
    }),
  );
  routes.add('POST', '/_emulator/tokens/release', () => ctlOk({ released: emu.releaseTokens() }));
  routes.add('POST', '/_emulator/stream/burst', (ctx) =>
    guard(() => {
      const b = body(ctx) ?? {};
      const count = typeof b['count'] === 'number' ? Math.min(1_000_000, Math.max(0, b['count'])) : 1;
      const appKey = typeof b['appKey'] === 'string' ? b['appKey'] : emu.state.org.apps[0]?.appKey;
      if (!appKey || !emu.state.apps.has(appKey)) throw new ActingError(400, 'unknown app');
      const topic = typeof b['topic'] === 'string' ? b['topic'] : TOPIC_BOT_MESSAGE;
      for (let i = 0; i < count; i++)
        emu.gateway.pushCallback(appKey, topic, { n: i, msgtype: 'text', text: { content: `burst ${i}` } });
      return { pushed: count };
    }),
  );
  routes.add('POST', '/_emulator/reset', () => {
    emu.reset();
    return ctlOk({ ok: true });
  });
  // Writes only to the `save` path chosen at start: a network caller never picks a file path.
  routes.add('POST', '/_emulator/save', () =>
    guard(() => {
      if (!emu.savePath) throw new ActingError(409, 'the emulator was started without a save path');
      emu.save();
      return { ok: true, path: emu.savePath };
    }),
  );
}

function mediaDownload(
  emu: Emulator,
  mediaId: string,
): { fileName: string; contentType: string; bytes: Buffer } | undefined {
  const m = emu.state.media.get(mediaId);
  const bytes = emu.state.mediaBytes.get(mediaId);
  // The uploader chose the type: anything that is not a plain `type/subtype` is served as bytes.
  const type = /^[\w.+-]{1,64}\/[\w.+-]{1,64}$/.test(m?.contentType ?? '') ? (m?.contentType ?? '') : '';
  return m && bytes
    ? { fileName: m.filename, contentType: type || 'application/octet-stream', bytes }
    : undefined;
}

/** RFC 5987 `value-chars`: everything but unreserved letters, digits and `!#$&+-.^_`|~` is percent-encoded. */
function encodeRfc5987(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

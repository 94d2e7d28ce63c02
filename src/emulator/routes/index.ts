/**
 * Every DingTalk route of the emulator, registered on one routes. Each file covers one domain of
 * docs/dingtalk.md; the Stream open call is handed to the gateway (§S2).
 */
import type { Ctx, Reply } from '../http-io.js';
import type { RouteTable } from '../route-table.js';
import type { EmulatorState } from '../state.js';
import type { StreamGateway } from '../stream/gateway.js';
import { registerAppRobotRoutes } from './app-robot.js';
import { registerCardRoutes } from './card.js';
import { registerChatRoutes } from './chat.js';
import { registerLoginPage } from './login-page.js';
import { registerMediaRoutes } from './media.js';
import { registerNoticeRoutes } from './notices.js';
import { registerWebhookRoutes } from './robot-webhook.js';
import { registerSignInRoutes } from './sign-in.js';
import { registerTodoRoutes } from './todo.js';
import { registerTokenRoutes } from './tokens.js';
import { registerUserRoutes } from './users.js';

export interface RouteDeps {
  state: EmulatorState;
  gateway: StreamGateway;
  origin: () => string;
}

export function registerRoutes(routes: RouteTable, deps: RouteDeps): void {
  registerTokenRoutes(routes);
  registerWebhookRoutes(routes);
  registerAppRobotRoutes(routes);
  registerNoticeRoutes(routes);
  registerMediaRoutes(routes);
  registerUserRoutes(routes);
  registerTodoRoutes(routes);
  registerChatRoutes(routes);
  registerCardRoutes(routes);
  registerSignInRoutes(routes);
  registerLoginPage(routes);
  routes.add('POST', '/v1.0/gateway/connections/open', (ctx: Ctx): Reply => {
    const out = deps.gateway.handleOpen(ctx.json());
    return { status: out.status, body: out.body, code: out.status === 200 ? '' : String(out.status) };
  });
}

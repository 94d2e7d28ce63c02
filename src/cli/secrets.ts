/**
 * Every secret the config carries, registered on one Redactor for the CLI's output and the server's logs
 * — app secrets, robot webhook tokens and sign secrets, the HTTP event subscription's token
 * and AES key, the card callback's apiSecret, the hook routes' secrets, and the database password.
 */

import { Redactor } from '../core/redact.js';
import type { HubConfig } from '../hub/config.js';

export function configRedactor(config: HubConfig): Redactor {
  const r = new Redactor();
  addConfigSecrets(r, config);
  return r;
}

export function addConfigSecrets(r: Redactor, config: HubConfig): void {
  for (const app of Object.values(config.apps)) r.add(app.appSecret);
  for (const robot of Object.values(config.robots)) {
    r.add(robot.secret);
    r.add(robot.webhook);
    // The webhook may be a full URL: its access_token is the credential.
    const m = /access_token=([^&\s]+)/.exec(robot.webhook);
    r.add(m?.[1]);
  }
  // The HTTP event subscription's token and AES key (docs/dingtalk.md §9b): whoever has both can forge and read events.
  const events = config.inbound?.http.events;
  if (events) {
    r.add(events.token);
    r.add(events.aesKey);
  }
  // The card callback's apiSecret (docs/dingtalk.md §10): whoever has it can sign clicks.
  r.add(config.tasks.cards?.http.apiSecret);
  // Hook routes' secrets (docs/gateways.md): whoever has one can post alerts into DingTalk.
  for (const route of config.gateways?.routes ?? []) {
    const a = route.auth;
    if (a.type === 'hmac') r.add(a.secret);
    else if (a.type === 'basic') {
      r.add(a.password);
      r.add(Buffer.from(`${a.username}:${a.password}`, 'utf8').toString('base64'));
    } else r.add(a.token);
  }
  const pw = /^postgres(?:ql)?:\/\/[^:/@]*:([^@]+)@/i.exec(config.database.url);
  r.add(pw?.[1]);
}

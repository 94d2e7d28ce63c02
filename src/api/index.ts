/** The typed domain APIs. Most code uses them through `DingTalk` (src/client.ts); this barrel exports the parts. */

export * from './auth/auth.js';
export * from './card/card.js';
export * from './chat/chat.js';
export * from './media/media.js';
export * from './media/media-limits.js';
export * from './notice/notice.js';
export * from './notice/notice-messages.js';
export * from './robot/app-robot.js';
export * from './robot/app-templates.js';
export * from './robot/custom-robot.js';
export * from './robot/webhook-messages.js';
export * from './robot/webhook-sign.js';
export { checkKeywords, validateWebhookMessage, WEBHOOK_MAX_BYTES } from './robot/webhook-validate.js';
export type { CallOptions } from './shared/response.js';
export * from './todo/todo.js';
export * from './users/users.js';

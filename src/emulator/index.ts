/**
 * `dingkit/emulator`: a local DingTalk the official clients accept. One origin serves the oapi routes,
 * the v1.0 routes, the Stream gateway and the `/_emulator/` control API.
 *
 * @example
 * const emu = await startEmulator({ limits: { robotWindowMs: 2000 } });
 * await fetch(emu.webhookUrl('alerts'), { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ msgtype: 'text', text: { content: 'hi' } }) });
 * emu.messages('cidDemoOps000000002=='); // → [{ text: 'hi', ... }]
 * await emu.close();
 */
export {
  ActingError,
  type CallbackPushResult,
  type ClickCardInput,
  type FireEventInput,
  type PostDirectInput,
  type PostMessageInput,
  type PostMessageResult,
  type PushCallbackInput,
  TOPIC_BOT,
  TOPIC_CARD,
} from './acting.js';
export type { AttachmentInput } from './attachments.js';
export { DEMO_CORP_ID, DEMO_ORG, demoOrg } from './demo-org.js';
export { checkFixture, Emulator, type RequestFilter, startEmulator } from './emulator.js';
export { DEFAULT_LIMITS, type EmulatorState } from './state.js';
export { StreamGateway } from './stream/index.js';
export type * from './types.js';

export type { MalformedReason, ServerFrame } from './frames.js';
export { StreamGateway } from './gateway.js';
export type * from './types.js';

/**
 * Standalone mode: with no hub running, a command starts one in this process on the same store (no Stream
 * receiver: inbound traffic belongs to the long-running hub), does its work, and stops it gracefully. What it
 * queued stays durable in the store and is delivered by whichever hub runs next (or right away, while this one
 * is up).
 */

import { startHub } from '../hub/hub.js';
import type { LocalHubStarter } from './context.js';

export const startLocalHub: LocalHubStarter = (config) => startHub({ config, receive: false });

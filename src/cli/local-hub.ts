/**
 * Standalone mode: with no hub running, a command starts one in this process on the same store (no Stream
 * receiver: inbound traffic belongs to the long-running hub), does its work, and stops it gracefully. What it
 * queued stays durable in the store and is delivered by whichever hub runs next (or right away, while this one
 * is up).
 */

import type { LocalHubStarter } from './context.js';

/** Loaded on demand: most commands talk to a running hub and should not pay for loading one. */
export const startLocalHub: LocalHubStarter = async (config, o) => {
  const { launchHub } = await import('./launch-hub.js');
  return launchHub({ config, receive: false, configDir: o?.configDir });
};

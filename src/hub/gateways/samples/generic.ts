/** A generic route takes any JSON object: a deploy notice, as a CI system might post it. */
import type { HookSample } from './sample.js';

export const genericSamples: readonly HookSample[] = [
  {
    name: 'event',
    body: (n, now) => ({
      title: 'Deploy finished (a test event)',
      service: 'web',
      environment: 'staging',
      status: 'success',
      at: now.toISOString(),
      run: n,
    }),
  },
];

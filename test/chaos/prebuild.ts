/**
 * vitest globalSetup of the chaos project: the scripts its tests start as child processes (hub runner, workers,
 * `serve`, the lossy twin), bundled once per run (test/support/bundles.ts). A chaos run starts some seventy
 * processes on a 2-core machine; under tsx their module loading competed with the hubs the tests were timing.
 */

import type { TestProject } from 'vitest/node';
import { buildBundles } from '../support/bundles.js';

export default function setup(project: TestProject): Promise<() => void> {
  return buildBundles(
    'chaos-bundles',
    [
      'test/chaos/hub-runner.ts',
      'test/chaos/dispatch-worker.ts',
      'test/chaos/enqueue-worker.ts',
      'test/chaos/serve-standby.ts',
      'test/chaos/fixtures/lossy-server.ts',
    ],
    project,
  );
}

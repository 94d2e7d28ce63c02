/**
 * vitest globalSetup of the integration and e2e projects: `src/cli/main.ts`, the `dingkit` executable the CLI and
 * `serve` tests start as a child process, bundled once per run (bundles.ts) instead of transformed by tsx at
 * every start. The upload flood's hub (test/chaos/hub-runner.ts) stays on tsx here: that test bounds the hub's
 * peak RSS, and without tsx's loader in the process the peak drops by about 50 MB (223 → 170 MB against a
 * 300 MB bound), which would loosen what the bound catches.
 */

import type { TestProject } from 'vitest/node';
import { buildBundles } from './bundles.js';

export default function setup(project: TestProject): Promise<() => void> {
  return buildBundles('cli-bundle', ['src/cli/main.ts'], project);
}

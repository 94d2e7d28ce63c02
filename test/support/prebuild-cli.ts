/**
 * vitest globalSetup of the integration and e2e projects: `src/cli/main.ts`, the `dingkit` executable the CLI and
 * `serve` tests start as a child process, bundled once per run (bundles.ts) instead of transformed by tsx at
 * every start.
 */

import { buildBundles } from './bundles.js';

export default function setup(): Promise<() => void> {
  return buildBundles('cli-bundle', ['src/cli/main.ts']);
}

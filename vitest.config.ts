import { configDefaults, defineConfig } from 'vitest/config';

/** Files that drive a real browser (playwright-core) run with the end-to-end project, wherever they live. */
const browser = [
  'test/integration/dashboard.test.ts',
  'test/integration/serve-demo.test.ts',
  'test/security/dashboard-xss.test.ts',
  'test/integration/emulator-client.test.ts',
  'test/security/emulator-client-xss.test.ts',
];

/**
 * Four projects (`npm run test:unit` and friends run one each; `vitest run` runs all):
 * - unit: the tests next to the code, the dependency rule and the test helpers' own tests. No sockets to the
 *   outside, no child processes: they share workers (`isolate: false`) to skip a module graph per file.
 * - integration: real sockets against the emulator, the store conformance suite (SQLite and PostgreSQL), the
 *   security attacks.
 * - e2e: the hub end to end, and the browser tests.
 *   Integration and e2e share workers too: every test builds its own emulator, hub and store (no module state
 *   in src/), so loading the module graph once per worker instead of once per file is safe, and it was most of
 *   their time (integration 133 → 87 s, e2e 54 → 40 s on the idle machine, same tests passing).
 * - chaos: kills, faults and budgets over child processes. Timed (a hub must start within 30 s), they run in a
 *   group of their own after the others, two files at a time (`DINGKIT_CHAOS_WORKERS`). Their child processes
 *   start from a bundle built once per run (test/chaos/prebuild.ts), which made a start about a third of the CPU
 *   it took through tsx; since then two files at once fit (chaos 120 → 86 s on the shared machine at load 7–10,
 *   same CPU time, every count unchanged). Three at once, under tsx, starved the hubs they start.
 *
 * Most tests wait on sockets, timers and child processes rather than the CPU: one worker left a 2-core machine
 * about 70 % idle. Three keep it busy; more start to starve the tests that measure time (limiter windows,
 * backoff gaps, fault latencies) when the machine also runs other work. `DINGKIT_TEST_WORKERS` changes the
 * count (1 on a crowded machine, more on a bigger one).
 */
const workers = Number(process.env['DINGKIT_TEST_WORKERS'] ?? 3);
const chaosWorkers = Number(process.env['DINGKIT_CHAOS_WORKERS'] ?? 2);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: workers,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/architecture/**/*.test.ts', 'test/support/**/*.test.ts'],
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/conformance/**/*.test.ts',
            'test/security/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, ...browser],
          isolate: false,
          // src/cli/main.ts, bundled once per run for the tests that start the executable (bundles.ts).
          globalSetup: ['test/support/prebuild-cli.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', ...browser],
          isolate: false,
          globalSetup: ['test/support/prebuild-cli.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          maxWorkers: chaosWorkers,
          // A group of its own, after the others (its worker count differs from theirs).
          sequence: { groupOrder: 1 },
          // The child-process scripts, bundled once per run and started with plain node (test/support/bundles.ts).
          globalSetup: ['test/chaos/prebuild.ts'],
        },
      },
    ],
  },
});

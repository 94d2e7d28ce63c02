#!/usr/bin/env node
/** The `dingkit` executable (package.json `bin`). Everything else is in run.ts so tests can run it in-process. */

import { processIo } from './io.js';
import { startLocalHub } from './local-hub.js';
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), processIo(), { startLocalHub });

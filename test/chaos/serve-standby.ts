/**
 * `dingkit serve` as a warm standby (standby.ts): what src/cli/main.ts runs, with the modules `serve` imports
 * lazily (hub, HTTP API) loaded up front, and the CLI arguments taken from the go line. The process that serves
 * is the same `serve` a user starts; only the module loading happened before the previous process was killed.
 */

import '../../src/hub/hub.js';
import '../../src/server/api-server.js';
import { processIo } from '../../src/cli/io.js';
import { startLocalHub } from '../../src/cli/local-hub.js';
import { runCli } from '../../src/cli/run.js';
import { awaitGo } from './standby.js';

const { args } = await awaitGo<{ args: string[] }>();
process.exitCode = await runCli(args, processIo(), { startLocalHub });

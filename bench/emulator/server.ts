/**
 * Child process of bench/emulator/run.ts: starts one emulator (or a bare node:http baseline) on a free port and
 * prints `PORT <n>` on stdout. The limits are lifted so the robot window never binds.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator } from '../../src/emulator/index.js';

const mode = process.argv[2] ?? 'emulator';
// Exit cleanly on the parent's SIGTERM so `--cpu-prof` (via NODE_OPTIONS) can write its profile.
process.on('SIGTERM', () => process.exit(0));
if (mode === 'bare') {
  const body = JSON.stringify({ errcode: 0, errmsg: 'ok' });
  const server = createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
  });
} else {
  const emu = await startEmulator({
    seed: 1,
    limits: { robotLimit: Number.MAX_SAFE_INTEGER, tokenTtlSec: 86_400 },
    stream: { pingIntervalMs: 600_000 },
  });
  process.stdout.write(`PORT ${emu.port}\n`);
}

/**
 * Child process of bench/hub/makespan.ts: the emulator with the chaos org of R robots in a process of its own, as
 * DingTalk is a server of its own (in the bench's process its handlers would share one event loop with the hub
 * and the loops being measured). Prints `PORT <n>` on stdout; the parent reads the records through the control
 * API.
 *
 *   node --import tsx bench/hub/emulator-process.ts <robots> <limit> <windowMs>
 */
import { startEmulator } from '../../src/emulator/emulator.js';
import { chaosOrg } from '../../test/chaos/hub-chaos-support.js';

const [robots, limit, windowMs] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const emu = await startEmulator({
  port: 0,
  seed: 1,
  fixture: chaosOrg(robots),
  // The penalty scaled like the window (10 minutes per minute of window).
  limits: { robotLimit: limit, robotWindowMs: windowMs, robotPenaltyMs: 10 * windowMs },
});
// Closed, not killed: its keep-alive sockets end with a FIN the clients expect, not a reset.
process.on('SIGTERM', () => void emu.close().then(() => process.exit(0)));
process.stdout.write(`PORT ${emu.port}\n`);

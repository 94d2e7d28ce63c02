/**
 * The dingkit emulator as a benchmark target: the demo org with limits lifted (so the benchmark measures
 * clients, not the 20-per-minute robot rule) and the request log off. Prints `PORT <n> <target JSON>`.
 */

import { DEMO_ORG, startEmulator } from '../../src/emulator/index.js';

const app = DEMO_ORG.org.apps[0]!;
const robot = DEMO_ORG.org.customRobots.find((r) => r.name === 'alerts')!;
const emu = await startEmulator({
  logRequests: false,
  limits: { robotLimit: 1e9, noticeDailyCap: 1e9 },
});
const target = {
  robotToken: robot.token,
  robotSecret: robot.security.secret,
  appKey: app.appKey,
  appSecret: app.appSecret,
  openConversationId: 'cidDemoOps000000002==',
};
process.stdout.write(`PORT ${emu.port} ${JSON.stringify(target)}\n`);
process.on('SIGTERM', () => {
  void emu.close().then(() => process.exit(0));
});

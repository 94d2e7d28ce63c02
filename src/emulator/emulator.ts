/**
 * `startEmulator`: builds an `Emulator` (instance.ts), mounts the control API (control/routes.ts) and the emulated
 * client (client/routes.ts) on its route table and starts listening; the handle is what tests and `dingkit emulator` use.
 */
import { registerClientRoutes } from './client/routes.js';
import { registerControlRoutes } from './control/routes.js';
import { Emulator } from './instance.js';
import type { EmulatorOptions } from './types.js';

export { checkFixture, Emulator, type RequestFilter } from './instance.js';

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const emu = new Emulator(opts);
  registerControlRoutes(emu.routes, emu);
  registerClientRoutes(emu.routes, emu.state);
  await emu.listen(opts.port ?? 0);
  return emu;
}

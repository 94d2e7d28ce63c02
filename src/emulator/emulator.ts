/**
 * `startEmulator`: builds an `Emulator` (instance.ts), mounts the control API (control/routes.ts) on its route table
 * and starts listening; the handle is what tests and `dingkit emulator` use.
 */
import { registerControlRoutes } from './control/routes.js';
import { Emulator } from './instance.js';
import type { EmulatorOptions } from './types.js';

export { checkFixture, Emulator, type RequestFilter } from './instance.js';

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const emu = new Emulator(opts);
  registerControlRoutes(emu.routes, emu);
  await emu.listen(opts.port ?? 0);
  return emu;
}

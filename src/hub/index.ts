/**
 * `dingkit/hub`: the collaboration service. `startHub` runs it (store, dispatcher, Stream receiver, services);
 * `RunningHub` implements the `HubService` contract the HTTP API and the CLI call. The config needs DingTalk
 * credentials (or API bases pointing at an emulator, `emulator.mode: off`): demo mode, where the built-in emulator
 * is started for you, is `dingkit serve`'s.
 *
 * @example
 * const hub = await startHub({ config: loadConfig().config });
 * await hub.sendMessage({ group: 'ops', text: 'deploy done', mention: ['Alice'] }, { by: 'ci' });
 * await hub.stop();
 */

export { type HubConfig, loadConfig, parseConfig, usesEmulator } from './config.js';
export { type FetchedFile, type FetchFileOptions, fetchFile } from './files/fetch.js';
export { HUB_VERSION, type HubEmulator, type RunningHub, type StartHubOptions, startHub } from './hub.js';
export type * from './service.js';
export {
  type AccessActor,
  type AccessDecision,
  type AccessPolicy,
  type AccessRules,
  type AccessSubject,
  decideTaskAccess,
  isTaskAccessError,
  resolveAccessRules,
  type TaskAccessAction,
  TaskAccessError,
} from './tasks/access.js';

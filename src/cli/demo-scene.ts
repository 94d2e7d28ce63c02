/**
 * The `npm start` scene: a short, scripted collaboration against the built-in emulator, so a first run shows
 * the whole loop at once. A task is assigned to two people in a group (its card there, docs/hub.md "Task cards",
 * or an announcement with mentions; one Todo each), a file is shared, and one person answers `done <id>` in the chat through the emulator's control API,
 * so the answer travels the real path: Stream → inbox → command → state change → announcement.
 */

import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Emulator } from '../emulator/emulator.js';
import type { RunningHub } from '../hub/hub.js';
import { ZonedTime } from '../hub/zoned-time.js';

export interface DemoSceneOptions {
  /** Where the friendly lines go. @default `logger.info` when a logger is given, else stdout */
  log?: (line: string) => void;
  /** The hub's logger (what the CLI's `serve` passes); each line becomes an info record. */
  logger?: Logger;
  /** Longest wait for each step. @default 15_000 */
  stepTimeoutMs?: number;
}

export interface DemoSceneResult {
  taskId: number;
  shareId: string;
  /** Whether the chat answer closed the task within the step timeout. */
  completed: boolean;
}

/** A tiny but valid one-page PDF, so the shared file opens if someone downloads it. */
function demoPdf(): Buffer {
  const body = [
    '%PDF-1.4',
    '1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj',
    '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj',
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj',
    '4 0 obj<</Length 44>>stream\nBT /F1 18 Tf 24 72 Td (dingkit demo) Tj ET\nendstream endobj',
    '5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj',
    'trailer<</Root 1 0 R>>',
    '%%EOF',
  ];
  return Buffer.from(`${body.join('\n')}\n`, 'latin1');
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

export async function runDemoScene(
  hub: RunningHub<Emulator>,
  o: DemoSceneOptions = {},
): Promise<DemoSceneResult> {
  const logger = o.logger;
  const log =
    o.log ??
    (logger
      ? (line: string) => logger.info({ scene: 'demo' }, line)
      : (line: string) => process.stdout.write(`${line}\n`));
  const timeout = o.stepTimeoutMs ?? 15_000;
  const emu = hub.emulator;
  if (!emu) throw new ConfigError('the demo scene runs against the built-in emulator only');
  const cfg = hub.config;
  const [alias, group] =
    Object.entries(cfg.groups).find(([, g]) => g.app !== undefined && g.openConversationId !== undefined) ??
    [];
  if (!alias || !group?.openConversationId)
    throw new ConfigError('the demo org has no group with an app robot');
  const members = new Set(emu.state.groups.get(group.openConversationId)?.members ?? []);
  const people = Object.entries(cfg.people)
    .filter(([, p]) => p.userId !== undefined && members.has(p.userId))
    .slice(0, 2);
  if (people.length < 2) throw new ConfigError('the demo group needs two members');
  const [first, second] = people as [[string, (typeof people)[0][1]], [string, (typeof people)[0][1]]];
  const name = (p: (typeof people)[0]) => p[1].name ?? p[0];

  log(`🎬 Demo scene in #${alias} (${emu.url}, the built-in emulator)`);
  const due = new Date(Date.now() + 24 * 3_600_000).toISOString();
  const task = await hub.assignTask(
    {
      title: 'Prepare the release notes',
      description: 'Collect the changes since the last release and write them up.',
      assignees: [name(first), name(second)],
      group: alias,
      due,
      priority: 'high',
    },
    { by: 'demo' },
  );
  log(
    `1. Task #${task.id} "${task.title}" assigned to ${name(first)} and ${name(second)}, due ${new ZonedTime(cfg.timeZone).formatIso(due)}.`,
  );
  const todos = await until(async () => {
    const t = await hub.getTask(task.id);
    return t?.assignees.every((a) => a.todoId) ? t.assignees : undefined;
  }, timeout);
  log(
    todos
      ? `   The group got ${emu.state.cards.has(`dingkit-task-${task.id}`) ? 'the task as an interactive card (Start / Done / Open, updated in place)' : 'an announcement'}, and each assignee a DingTalk Todo (${todos.map((a) => `${a.name}: ${a.todoId}`).join(', ')}).`
      : '   The announcement and Todos are queued (the dispatcher is still working on them).',
  );

  const share = await hub.shareFile(
    { group: alias, content: demoPdf(), fileName: 'release-checklist.pdf', comment: 'The release checklist' },
    { by: 'demo' },
  );
  log(`2. Shared release-checklist.pdf (${share.size} bytes) with #${alias} as a real file message.`);

  log(`3. ${name(first)} writes "@bot done ${task.id}" in the group (through the emulator's control API)…`);
  const res = await fetch(
    `${emu.url}/_emulator/groups/${encodeURIComponent(group.openConversationId)}/messages`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: first[1].userId, text: `done ${task.id}`, atBot: true }),
    },
  );
  if (!res.ok) {
    log(`   The emulator refused the message (HTTP ${res.status}).`);
    return { taskId: task.id, shareId: share.id, completed: false };
  }
  const done = await until(async () => {
    const t = await hub.getTask(task.id);
    return t?.state === 'done' ? t : undefined;
  }, timeout);
  if (!done) {
    log('   …the answer has not been applied yet; watch the dashboard.');
    return { taskId: task.id, shareId: share.id, completed: false };
  }
  log(
    `   …it came in over ${hub.stream ? 'Stream' : 'an HTTP callback'}, was stored in the inbox, and moved task #${task.id} to done.`,
  );
  const cid = group.openConversationId;
  const told = await until(async () => {
    const announced = emu.messages(cid).some((m) => m.text.includes(`Task #${task.id} finished by`));
    const ids = new Set((done.assignees ?? []).map((a) => a.todoId));
    const closed = emu.todos().filter((t) => ids.has(t.id) && t.done).length;
    return announced && closed === ids.size ? closed : undefined;
  }, timeout);
  log(
    told !== undefined
      ? `4. The group was told "Task #${task.id} finished by ${name(first)}", and both Todos are closed in DingTalk.`
      : '4. The announcement and the Todo updates are queued; the dashboard shows them as they go out.',
  );
  log(
    `✅ Demo scene finished. Try it yourself in the emulated DingTalk client, ${emu.url}/_emulator/client/ (choose a person, open #${alias}, write "@bot tasks"): the commands are \`done <id>\`, \`start <id>\`, \`tasks\`, \`help\`.`,
  );
  return { taskId: task.id, shareId: share.id, completed: true };
}

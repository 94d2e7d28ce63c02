/**
 * What the emulated client shows one person (`GET /_emulator/client/view?user=`): their groups with the messages
 * as recorded, their 1:1 chat with the app robot, their work notices and their Todos. Pure over the state; the
 * page polls it every second. No secrets: apps are named by name, appKey and robotCode only (no appSecret, no
 * callback keys), custom robots by name (no webhook token or signing secret).
 *
 * What the page needs to draw a message the way DingTalk would is resolved here, where the records are:
 * - who was really @-mentioned (`atUserIds`, `isAtAll`, and `atBot` for a person's @bot), so the page can tell a
 *   real @ from an "@name" that is only text (docs/dingtalk.md §2.5: only `at` notifies);
 * - a file message's name, size and download link (`/_emulator/files/<downloadCode or mediaId>`);
 * - an interactive card's current values (creation values, updates and the person's private data, §10).
 */
import type { EmulatorState } from '../state.js';
import type { MessageRecord, NoticeRecord, TodoRecord, UserDef } from '../types.js';

/** The newest messages of a conversation the page gets (older ones are not drawn). */
export const VIEW_MESSAGES = 200;

export interface ViewPerson {
  userId: string;
  name: string;
  title?: string;
}

export interface ViewFile {
  name: string;
  size?: number;
  /** Same-origin download link, when the emulator holds the bytes. */
  url?: string;
}

export interface ViewCard {
  outTrackId: string;
  templateId: string;
  params: Record<string, string>;
  clicks: number;
}

export interface ViewMessage {
  seq: number;
  at: number;
  source: MessageRecord['source'];
  /** The person who wrote it (source `user`). */
  from?: ViewPerson;
  /** The robot's display name (custom robot name or the app's name). */
  robot?: string;
  /** The name of the app robot a person @-mentioned (the message reached the bot). */
  atBot?: string;
  type: string;
  content: unknown;
  text: string;
  atUserIds: string[];
  isAtAll: boolean;
  recalled: boolean;
  /** Whether this person has read it (drives the app robot's read status, docs/dingtalk.md §3.1). */
  read: boolean;
  file?: ViewFile;
  card?: ViewCard;
}

export interface ViewMember extends ViewPerson {
  /** The page highlights `@<mobile>` as `@<name>` (custom robots @ by mobile, §2.5). */
  mobile: string;
}

export interface ViewGroup {
  id: string;
  name: string;
  dissolved: boolean;
  members: ViewMember[];
  /** The app robot installed in the group (what `@bot` reaches), if any. */
  bot?: { robotCode: string; name: string };
  messages: ViewMessage[];
}

export interface ViewNotice {
  taskId: number;
  at: number;
  app: string;
  msg: unknown;
  recalled: boolean;
  /** Opened by this person (the send result's read list). */
  read: boolean;
  file?: ViewFile;
}

export interface ViewTodo {
  id: string;
  subject: string;
  description?: string;
  dueTime?: number;
  priority?: number;
  done: boolean;
  appUrl?: string;
  pcUrl?: string;
  /** Whether this person may tick it (an executor, the creator or the owner). */
  canTick: boolean;
}

export interface ClientView {
  org: { name: string; corpId: string };
  people: ViewPerson[];
  apps: Array<{ appKey: string; name: string; robotCode: string; homepageUrl?: string }>;
  /** Absent when `user` is not a person of the org. */
  me?: ViewPerson & { unionId: string };
  groups: ViewGroup[];
  direct?: { bot: { robotCode: string; name: string }; messages: ViewMessage[] };
  notices: ViewNotice[];
  todos: ViewTodo[];
}

function person(u: UserDef): ViewPerson {
  return { userId: u.userId, name: u.name, ...(u.title !== undefined ? { title: u.title } : {}) };
}

export function clientView(state: EmulatorState, userId: string | undefined): ClientView {
  const base = {
    org: { name: state.org.name, corpId: state.org.corpId },
    people: state.org.users.map(person),
    apps: state.org.apps.map((a) => ({
      appKey: a.appKey,
      name: a.name,
      robotCode: a.robotCode,
      ...(a.homepageUrl !== undefined ? { homepageUrl: a.homepageUrl } : {}),
    })),
  };
  const me = userId === undefined ? undefined : state.users.get(userId);
  if (!me) return { ...base, groups: [], notices: [], todos: [] };
  const botName = (robotCode: string): string => state.appsByRobotCode.get(robotCode)?.name ?? robotCode;
  const groups = state.org.groups
    .filter((g) => g.members.includes(me.userId))
    .map((g): ViewGroup => {
      const bot = g.robotCodes[0];
      return {
        id: g.openConversationId,
        name: g.name,
        dissolved: g.dissolved === true,
        members: g.members.flatMap((m) => {
          const u = state.users.get(m);
          return u ? [{ ...person(u), mobile: u.mobile }] : [];
        }),
        ...(bot !== undefined ? { bot: { robotCode: bot, name: botName(bot) } } : {}),
        messages: messagesOf(state, g.openConversationId, me.userId),
      };
    });
  const app = state.org.apps[0];
  const unionId = me.unionId;
  return {
    ...base,
    me: { ...person(me), unionId },
    groups,
    ...(app
      ? {
          direct: {
            bot: { robotCode: app.robotCode, name: app.name },
            messages: messagesOf(state, `oto:${me.userId}`, me.userId),
          },
        }
      : {}),
    notices: state.notices
      .filter((n) => n.userId === me.userId && n.forbiddenCode === undefined)
      .slice(-VIEW_MESSAGES)
      .map((n) => noticeView(state, n)),
    todos: [...state.todos.values()]
      .filter((t) => !t.deleted && sees(t, unionId))
      .map((t) => todoView(t, unionId)),
  };
}

function messagesOf(state: EmulatorState, conversation: string, me: string): ViewMessage[] {
  const list = state.messagesByConversation.get(conversation) ?? [];
  return list.slice(-VIEW_MESSAGES).map((m) => messageView(state, m, me));
}

function messageView(state: EmulatorState, m: MessageRecord, me: string): ViewMessage {
  const from = m.from !== undefined ? state.users.get(m.from) : undefined;
  const robot = m.robot === undefined ? undefined : (state.appsByRobotCode.get(m.robot)?.name ?? m.robot);
  const file = fileOf(state, m.type, m.content);
  const card = m.source === 'card' ? cardOf(state, m.content, me) : undefined;
  return {
    seq: m.seq,
    at: m.at,
    source: m.source,
    ...(from ? { from: person(from) } : {}),
    ...(robot !== undefined ? { robot } : {}),
    ...(m.atBot !== undefined ? { atBot: state.appsByRobotCode.get(m.atBot)?.name ?? m.atBot } : {}),
    type: m.type,
    content: m.content,
    text: m.text,
    atUserIds: m.atUserIds,
    isAtAll: m.isAtAll,
    recalled: m.recalled === true,
    read: m.readBy.includes(me),
    ...(file ? { file } : {}),
    ...(card ? { card } : {}),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A file message: a person's file or picture (downloadCode) or the app robot's `sampleFile` (mediaId, §3.2). */
function fileOf(state: EmulatorState, type: string, content: unknown): ViewFile | undefined {
  if (!isRecord(content)) return undefined;
  if ((type === 'file' || type === 'picture') && typeof content['downloadCode'] === 'string') {
    const d = state.downloads.get(content['downloadCode']);
    const name = typeof content['fileName'] === 'string' ? content['fileName'] : (d?.fileName ?? type);
    return d
      ? { name, size: d.bytes.length, url: `/_emulator/files/${encodeURIComponent(d.code)}` }
      : { name };
  }
  if (type === 'sampleFile' && typeof content['mediaId'] === 'string') {
    return mediaFile(state, content['mediaId'], content['fileName']);
  }
  return undefined;
}

function mediaFile(state: EmulatorState, mediaId: string, fileName: unknown): ViewFile {
  const m = state.media.get(mediaId);
  const name = typeof fileName === 'string' && fileName !== '' ? fileName : (m?.filename ?? mediaId);
  if (!m) return { name };
  return {
    name,
    size: m.size,
    ...(state.mediaBytes.has(mediaId) ? { url: `/_emulator/files/${encodeURIComponent(mediaId)}` } : {}),
  };
}

function cardOf(state: EmulatorState, content: unknown, me: string): ViewCard | undefined {
  if (!isRecord(content) || typeof content['outTrackId'] !== 'string') return undefined;
  const card = state.cards.get(content['outTrackId']);
  if (!card) return undefined;
  return {
    outTrackId: card.outTrackId,
    templateId: card.cardTemplateId,
    params: { ...card.cardParamMap, ...(card.privateData[me] ?? {}) },
    clicks: card.clicks,
  };
}

function noticeView(state: EmulatorState, n: NoticeRecord): ViewNotice {
  const msg = isRecord(n.msg) ? n.msg : {};
  const file = isRecord(msg['file']) ? msg['file'] : undefined;
  return {
    taskId: n.taskId,
    at: n.at,
    app: state.apps.get(n.appKey)?.name ?? n.appKey,
    msg: n.msg,
    recalled: n.recalled === true,
    read: n.readAt !== undefined,
    ...(msg['msgtype'] === 'file' && file && typeof file['media_id'] === 'string'
      ? { file: mediaFile(state, file['media_id'], undefined) }
      : {}),
  };
}

/** DingTalk lists a Todo for its executors, and for participants unless it is shown to executors only (§8.2). */
function sees(t: TodoRecord, unionId: string): boolean {
  return (
    t.executorIds.includes(unionId) ||
    (t.participantIds.includes(unionId) && t.isOnlyShowExecutor !== true) ||
    (t.executorIds.length === 0 && (t.creatorId === unionId || t.owner === unionId))
  );
}

function todoView(t: TodoRecord, unionId: string): ViewTodo {
  return {
    id: t.id,
    subject: t.subject,
    ...(t.description !== undefined ? { description: t.description } : {}),
    ...(t.dueTime !== undefined ? { dueTime: t.dueTime } : {}),
    ...(t.priority !== undefined ? { priority: t.priority } : {}),
    done: t.done,
    ...(t.detailUrl?.appUrl !== undefined ? { appUrl: t.detailUrl.appUrl } : {}),
    ...(t.detailUrl?.pcUrl !== undefined ? { pcUrl: t.detailUrl.pcUrl } : {}),
    canTick: t.executorIds.includes(unionId) || t.creatorId === unionId || t.owner === unionId,
  };
}

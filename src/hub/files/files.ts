/**
 * File shares (docs/dingtalk.md §6.2). Type and size are checked before anything leaves the process (a refused file
 * sends nothing); then the bytes are uploaded as media and a real file message is enqueued: app robot `sampleFile`
 * (group or 1:1, §3.2) or a work notification `file` (§5.3). Custom robots cannot send files at all (§2.4): a
 * group that only has one gets a link card when the caller gives a public URL, and a clear refusal otherwise.
 */

import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { contentTypeFor } from '../../api/media/media-limits.js';
import { noticeMessage } from '../../api/notice/notice-messages.js';
import { appMessage } from '../../api/robot/app-templates.js';
import { webhookMessage } from '../../api/robot/webhook-messages.js';
import { ValidationError } from '../../core/errors.js';
import { cleanFileName } from '../../core/file-name.js';
import { hashFile, makeTempDir, spoolTo } from '../../core/temp-file.js';
import type { EventBus } from '../../observe/events.js';
import type { Store } from '../../store/open-store.js';
import type { HubConfig } from '../config.js';
import type { Job } from '../delivery/jobs.js';
import type { OutboxPort } from '../delivery/outbox-port.js';
import type { DingTalkPort } from '../dingtalk/port.js';
import {
  defaultAppName,
  groupOrdered,
  type MentionTarget,
  orderFields,
  peopleOrdered,
  personConversation,
  planMessage,
  withKeyword,
} from '../messages/plan.js';
import { type PeopleDirectory, resolveUnique } from '../people.js';
import type { Actor, DeliveryStatus, FileShare, FileShareInput } from '../service.js';

/** The checks that run before any I/O; returns the lower-case extension. */
function checkFile(
  fileName: string,
  size: number | undefined,
  cfg: HubConfig['files'],
  capBytes: number,
): string {
  if (typeof fileName !== 'string' || fileName.trim() === '' || fileName.length > 200) {
    throw new ValidationError('1 to 200 characters', 'fileName');
  }
  if (/[/\\\0]/.test(fileName))
    throw new ValidationError('a bare file name, without directories', 'fileName');
  const ext = extname(fileName).slice(1).toLowerCase();
  if (!cfg.types.includes(ext)) {
    throw new ValidationError(
      `.${ext || '(none)'} files cannot be sent through DingTalk; allowed: ${cfg.types.join(', ')}; nothing was sent`,
      'fileName',
    );
  }
  if (size !== undefined) checkSize(size, capBytes);
  return ext;
}

function checkSize(size: number, cap: number): void {
  if (size === 0) throw new ValidationError('the file is empty; nothing was sent', 'content');
  if (size > cap) throw sizeError(size, cap);
}

function sizeError(size: number, cap: number): ValidationError {
  return new ValidationError(
    `the file is ${mb(size)}, over the ${mb(cap)} DingTalk accepts here; nothing was sent`,
    'content',
  );
}

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MB`;
}

/** The bytes of a share, wherever they are: in memory or in a file the upload to DingTalk streams from. */
interface Bytes {
  data: Buffer | string;
  size: number;
  sha256: string;
  /** Removes a temporary file the hub made; nothing for the caller's own file or Buffer. */
  dispose(): Promise<void>;
}

/**
 * Buffers are measured; a caller's file is `stat`ed before it is read; a stream is spooled to an owner-only
 * temporary file (core/temp-file.ts), stopped at the first byte over `cap`. Memory stays bounded whatever the
 * size: only a Buffer the caller already holds is ever in memory whole.
 */
async function materialize(content: FileShareInput['content'], cap: number): Promise<Bytes> {
  const none = async () => {};
  if (Buffer.isBuffer(content)) {
    checkSize(content.length, cap);
    const sha256 = createHash('sha256').update(content).digest('hex');
    return { data: content, size: content.length, sha256, dispose: none };
  }
  if (
    typeof content === 'object' &&
    content !== null &&
    'path' in content &&
    typeof content.path === 'string'
  ) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(content.path);
    } catch (e) {
      throw new ValidationError(
        `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        'content',
      );
    }
    if (!st.isFile()) throw new ValidationError('is not a regular file', 'content');
    checkSize(st.size, cap);
    const { size, sha256 } = await hashFile(content.path);
    checkSize(size, cap);
    return { data: content.path, size, sha256, dispose: none };
  }
  const tmp = await makeTempDir();
  try {
    const path = join(tmp.dir, 'file');
    const { size, sha256 } = await spoolTo(content as AsyncIterable<Uint8Array | string>, path, cap, (n) =>
      sizeError(n, cap),
    );
    checkSize(size, cap);
    return { data: path, size, sha256, dispose: () => tmp.remove() };
  } catch (e) {
    await tmp.remove();
    throw e;
  }
}

interface FileServiceDeps {
  config: HubConfig;
  store: Store;
  outbox: OutboxPort;
  people: PeopleDirectory;
  dingtalk: DingTalkPort;
  events: EventBus;
  now: () => number;
}

export class FileService {
  readonly #d: FileServiceDeps;

  constructor(deps: FileServiceDeps) {
    this.#d = deps;
  }

  async share(input: FileShareInput, actor: Actor): Promise<FileShare> {
    const d = this.#d;
    const cfg = d.config;
    const hasGroup = input.group !== undefined;
    const hasTo = input.to !== undefined && input.to.length > 0;
    if (hasGroup === hasTo) throw new ValidationError('give exactly one of group or to', 'group');

    // Route first (no I/O), so the size cap that applies is known before reading.
    let channel: FileShare['channel'];
    let app: string | undefined;
    let target: string;
    if (hasGroup) {
      const g = cfg.groups[input.group!];
      if (!g) throw new ValidationError(`no group named "${input.group}" in the config`, 'group');
      target = input.group!;
      const via = input.via ?? (g.app ? 'app' : 'robot');
      if (via === 'notice') throw new ValidationError('work notifications go to people, not groups', 'via');
      if (via === 'app') {
        if (!g.app || !g.openConversationId) {
          throw new ValidationError(`group "${target}" has no app robot to send files with`, 'via');
        }
        channel = 'app';
        app = g.app;
      } else {
        if (!g.robot) throw new ValidationError(`group "${target}" has no custom robot`, 'via');
        if (!input.publicUrl) {
          throw new ValidationError(
            `group "${target}" only has a custom robot, and custom robots cannot send files (DingTalk allows ` +
              'text, link, markdown, actionCard and feedCard only). Add an app robot to the group, or pass a ' +
              'public URL to post a link card instead; nothing was sent',
            'group',
          );
        }
        if (!/^https?:\/\//.test(input.publicUrl)) throw new ValidationError('an http(s) URL', 'publicUrl');
        channel = 'robot-link';
      }
    } else {
      target = [...new Set(input.to!)].join(', ');
      const via = input.via ?? 'app';
      if (via === 'robot') throw new ValidationError('custom robots post to their group only', 'via');
      channel = via === 'notice' ? 'notice' : 'app';
      app = defaultAppName(cfg);
      if (!app) throw new ValidationError('sending files to people needs an app in the config', 'to');
      if (channel === 'notice' && cfg.apps[app]?.agentId === undefined) {
        throw new ValidationError(`work notifications need apps.${app}.agentId`, 'via');
      }
    }
    const cap =
      channel === 'notice' ? Math.min(cfg.files.noticeMaxBytes, cfg.files.maxBytes) : cfg.files.maxBytes;
    // The name the recipient will see, without invisible characters; its extension is what is checked.
    const fileName = cleanFileName(input.fileName);
    const ext = checkFile(fileName, input.size, cfg.files, cap);
    const people: MentionTarget[] = await resolveUnique(d.people, input.to ?? [], { userId: true });
    const bytes = await materialize(input.content, cap);
    try {
      return await this.#send(
        input,
        actor,
        { fileName, ext, channel, app, target, hasGroup, hasTo, people },
        bytes,
      );
    } finally {
      await bytes.dispose();
    }
  }

  async #send(
    input: FileShareInput,
    actor: Actor,
    r: {
      fileName: string;
      ext: string;
      channel: FileShare['channel'];
      app: string | undefined;
      target: string;
      hasGroup: boolean;
      hasTo: boolean;
      people: MentionTarget[];
    },
    bytes: Bytes,
  ): Promise<FileShare> {
    const d = this.#d;
    const cfg = d.config;
    const { fileName, ext, channel, app, target, hasGroup, hasTo, people } = r;
    const sha256 = bytes.sha256;

    let mediaId: string | undefined;
    const jobs: Job[] = [];
    if (input.comment && channel !== 'robot-link') {
      jobs.push(
        ...planMessage(
          {
            group: input.group,
            to: hasTo ? people : undefined,
            via: channel === 'notice' ? 'notice' : 'app',
            text: input.comment,
            format: 'text',
          },
          cfg,
        ),
      );
    }
    if (channel === 'robot-link') {
      const g = cfg.groups[target]!;
      jobs.push({
        channel: 'robot',
        target,
        payload: {
          t: 'webhook',
          robot: g.robot!,
          body: webhookMessage.link({
            title: withKeyword(fileName, cfg.robots[g.robot!]?.keywords),
            text: input.comment ?? `${fileName} (${mb(bytes.size)})`,
            messageUrl: input.publicUrl!,
          }),
        },
        rateKey: `webhook:${g.robot}`,
      });
    } else {
      // Upload now: the media id must exist before the message that points at it is durable (§6.1).
      mediaId = await d.dingtalk.mediaUpload(app!, 'file', fileName, bytes.data, contentTypeFor(ext));
      const file = appMessage.file(mediaId, fileName, ext);
      if (hasGroup) {
        const g = cfg.groups[target]!;
        jobs.push({
          channel: 'app',
          target,
          payload: {
            t: 'group',
            app: app!,
            openConversationId: g.openConversationId!,
            ...file,
          },
        });
      } else {
        for (const p of people) {
          jobs.push({
            channel: channel === 'notice' ? 'notice' : 'app',
            target: p.name,
            payload:
              channel === 'notice'
                ? {
                    t: 'notice',
                    app: app!,
                    userIds: [p.userId!],
                    msg: noticeMessage.file(mediaId),
                  }
                : { t: 'oto', app: app!, userIds: [p.userId!], ...file },
          });
        }
      }
    }
    // A comment goes just before its file in every conversation; an ordered conversation also keeps the share
    // behind its earlier messages (docs/hub.md "Ordering").
    const ordered = hasGroup ? groupOrdered(cfg, target) : peopleOrdered(cfg);
    const withComment = input.comment !== undefined && channel !== 'robot-link';
    for (const [k, j] of jobs.entries()) {
      const conversation =
        'userIds' in j.payload ? personConversation(j.payload.userIds[0]!) : `group:${j.target}`;
      jobs[k] = {
        ...j,
        orderKey: undefined,
        orderScope: undefined,
        ...orderFields(conversation, ordered, 1, { always: withComment }),
      };
    }
    const now = d.now();
    const id = randomUUID();
    await d.store.transaction(async (tx) => {
      const r = await d.outbox.enqueue(
        {
          kind: 'file',
          request: { fileName: fileName, size: bytes.size, sha256, target, channel },
          createdBy: actor.by,
          jobs,
        },
        tx,
      );
      await tx
        .insertInto('file_shares')
        .values({
          id,
          message_id: r.messageId,
          file_name: fileName,
          size: bytes.size,
          sha256,
          media_id: mediaId ?? null,
          target,
          channel,
          status: 'queued',
          created_by: actor.by,
          created_at: now,
          updated_at: now,
        })
        .execute();
    });
    d.events.publish('file.shared', { id, fileName: fileName, target, channel, by: actor.by });
    return {
      id,
      fileName: fileName,
      size: bytes.size,
      ...(mediaId ? { mediaId } : {}),
      target,
      channel,
      status: 'queued',
      createdAt: new Date(now).toISOString(),
    };
  }

  /** Recent shares, newest first, with the status of their deliveries. */
  async list(limit = 50): Promise<FileShare[]> {
    const db = this.#d.store.db;
    const rows = await db
      .selectFrom('file_shares')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(Math.min(Math.max(limit, 1), 500))
      .execute();
    const out: FileShare[] = [];
    for (const r of rows) {
      const statuses = r.message_id
        ? (
            await db
              .selectFrom('deliveries')
              .select('status')
              .where('message_id', '=', r.message_id)
              .execute()
          ).map((x) => x.status)
        : [];
      out.push({
        id: r.id,
        fileName: r.file_name,
        size: Number(r.size),
        ...(r.media_id ? { mediaId: r.media_id } : {}),
        target: r.target,
        channel: r.channel as FileShare['channel'],
        status: overall(statuses, r.status),
        createdAt: new Date(Number(r.created_at)).toISOString(),
      });
    }
    return out;
  }
}

/** One status for a share from its deliveries: the worst that applies. */
function overall(statuses: DeliveryStatus[], fallback: DeliveryStatus): DeliveryStatus {
  if (statuses.length === 0) return fallback;
  for (const s of ['dead', 'parked', 'sending', 'queued', 'cancelled'] as const)
    if (statuses.includes(s)) return s;
  return 'sent';
}

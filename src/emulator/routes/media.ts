/**
 * `POST /media/upload` (docs/dingtalk.md §6.1): multipart with `type` (or `?type=`) and the file part `media`;
 * per-type size and extension checks; answers an `@`-prefixed media_id.
 */
import { createHash } from 'node:crypto';
import { oapiAuth } from '../auth.js';
import { type Ctx, oapiErr, oapiOk, type Reply } from '../http-io.js';
import { boundaryOf, parseMultipart } from '../multipart.js';
import type { RouteTable } from '../route-table.js';

const MB = 1024 * 1024;
/** §6.1 (current doc): sizes and extensions per type. */
const MEDIA_RULES: Readonly<Record<string, { max: number; ext: readonly string[] }>> = {
  image: { max: 20 * MB, ext: ['jpg', 'jpeg', 'gif', 'png', 'bmp'] },
  voice: { max: 2 * MB, ext: ['amr', 'mp3', 'wav'] },
  video: { max: 20 * MB, ext: ['mp4'] },
  file: { max: 20 * MB, ext: ['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar'] },
};

export function registerMediaRoutes(routes: RouteTable): void {
  routes.add('POST', '/media/upload', upload);
}

function upload(ctx: Ctx): Reply {
  const a = oapiAuth(ctx, false);
  if (a.reply) return a.reply;
  const boundary = boundaryOf(String(ctx.req.headers['content-type'] ?? ''));
  if (!boundary) return oapiErr(43004, '无效的HTTP HEADER Content-Type, 需要 multipart/form-data');
  const parts = parseMultipart(ctx.raw, boundary);
  if (!parts) return oapiErr(40035, '缺少参数 media');
  const typePart = parts.find((p) => p.name === 'type' && p.filename === undefined);
  const type = typePart ? typePart.data.toString('utf8').trim() : ctx.query.get('type');
  if (!type) return oapiErr(40035, '缺少参数 type');
  const rule = MEDIA_RULES[type];
  if (!rule) return oapiErr(40004, '不合法的媒体文件类型');
  const media = parts.find((p) => p.name === 'media' && p.filename !== undefined);
  if (!media) return oapiErr(40035, '缺少参数 media');
  const filename = media.filename ?? '';
  const ext = filename.includes('.') ? (filename.split('.').pop() ?? '').toLowerCase() : '';
  // 40005 / 40006 follow the global table's file-type and file-size codes (the exact per-API codes are unverified).
  if (!rule.ext.includes(ext)) return oapiErr(40005, '不合法的文件类型');
  if (media.data.length === 0 || media.data.length > rule.max) return oapiErr(40006, '不合法的文件大小');
  const { state } = ctx;
  const mediaId = `@lADP${state.hex(24)}${ctx.seq.toString(36)}`;
  const createdAt = state.now();
  state.media.set(mediaId, {
    mediaId,
    type,
    filename,
    contentType: media.contentType ?? 'application/octet-stream',
    size: media.data.length,
    sha256: createHash('sha256').update(media.data).digest('hex'),
    createdAt,
  });
  state.keepMediaBytes(mediaId, media.data);
  return oapiOk({ type, media_id: mediaId, created_at: createdAt });
}

/**
 * Upload limits of `/media/upload` (docs/dingtalk.md §6.1): the media type decides the allowed extensions and the
 * largest size. Older docs said image 1 MB / file 10 MB; the current figures are the defaults and every figure
 * can be overridden (a work-notification `file` should stay ≤ 10 MB, §5.3 / §12).
 */

export type MediaType = 'image' | 'voice' | 'video' | 'file';

export interface MediaRule {
  maxBytes: number;
  extensions: readonly string[];
}

const MB = 1024 * 1024;

export const DEFAULT_MEDIA_RULES: Readonly<Record<MediaType, MediaRule>> = {
  image: { maxBytes: 20 * MB, extensions: ['jpg', 'jpeg', 'gif', 'png', 'bmp'] },
  voice: { maxBytes: 2 * MB, extensions: ['amr', 'mp3', 'wav'] },
  video: { maxBytes: 20 * MB, extensions: ['mp4'] },
  file: { maxBytes: 20 * MB, extensions: ['doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'zip', 'pdf', 'rar'] },
};

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  png: 'image/png',
  bmp: 'image/bmp',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  pdf: 'application/pdf',
  zip: 'application/zip',
  rar: 'application/vnd.rar',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

export function contentTypeFor(extension: string): string {
  return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

export function isMediaType(v: unknown): v is MediaType {
  return v === 'image' || v === 'voice' || v === 'video' || v === 'file';
}

/**
 * Files and pictures people send to a robot (docs/dingtalk.md §9a): the bot message carries a `downloadCode`
 * (`content.downloadCode`), which the app trades for a temporary URL with `POST /v1.0/robot/messageFiles/download`
 * (§3.1). The emulator keeps the bytes under the code and serves them at `/_emulator/files/<code>`.
 */
import { ActingError } from './acting-error.js';
import type { EmulatorState } from './state.js';

export interface AttachmentInput {
  /** The file's bytes, base64. */
  contentBase64: string;
  /** Required for files. */
  fileName?: string;
  contentType?: string;
}

const MAX_BYTES = 20 * 1024 * 1024;
/** `type/subtype` with optional `; name=value` parameters; anything else (CR/LF, quotes) is served as bytes. */
const MEDIA_TYPE = /^[\w!#$&^.+-]{1,64}\/[\w!#$&^.+-]{1,64}(?:\s?;\s?[\w-]{1,32}=[\w.+-]{1,64}){0,4}$/;

/** Stores the bytes and answers the bot-message fields for a `picture` or `file` message. */
export function makeAttachment(
  state: EmulatorState,
  robotCode: string,
  kind: 'picture' | 'file',
  a: AttachmentInput,
): { msgtype: string; content: Record<string, unknown>; text: string } {
  if (a === null || typeof a !== 'object' || typeof a.contentBase64 !== 'string') {
    throw new ActingError(400, `${kind}.contentBase64 is required`);
  }
  const bytes = Buffer.from(a.contentBase64, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_BYTES)
    throw new ActingError(400, `${kind} must be 1 byte to 20 MiB`);
  const fileName =
    typeof a.fileName === 'string' && a.fileName !== '' ? a.fileName : kind === 'picture' ? 'image.png' : '';
  if (fileName === '') throw new ActingError(400, 'file.fileName is required');
  const code = `dl${state.hex(40)}`;
  state.downloads.set(code, {
    code,
    robotCode,
    fileName,
    contentType:
      typeof a.contentType === 'string' && MEDIA_TYPE.test(a.contentType)
        ? a.contentType
        : 'application/octet-stream',
    bytes,
  });
  return kind === 'picture'
    ? { msgtype: 'picture', content: { downloadCode: code }, text: '[图片]' }
    : { msgtype: 'file', content: { downloadCode: code, fileName }, text: `[文件] ${fileName}` };
}

/**
 * `dingkit file share PATH|- (--group ALIAS | --to NAMES)`: streams the file to the hub (progress bar on a TTY)
 * or, standalone, hands it to the in-process hub. Size is checked here first against DingTalk's 20 MB file cap
 * (docs/dingtalk.md §6.1) so a too-big file fails before any upload.
 */

import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { type CliContext, list, parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { readAll } from './io.js';
import { formatBytes, ProgressBar } from './progress.js';
import { RemoteHub } from './remote-hub.js';

export const fileHelp = `Usage: dingkit file share PATH|- (--group ALIAS | --to NAMES) [--name NAME] [--comment TEXT] [--public-url URL]
       dingkit file share --from-url URL (--group ALIAS | --to NAMES) [--name NAME]

  -               read the file from stdin (then --name is required)
  --from-url URL  fetch the file from this http(s) URL (no redirects, 20 MiB cap) and share it
                  (--url is the global hub address)
  --via app|notice  force a channel
  --public-url    with only a custom robot configured, a link card to this URL is sent instead (robots cannot send files)`;

/** DingTalk's media cap for files (docs/dingtalk.md §6.1). */
const FILE_LIMIT_BYTES = 20 * 1024 * 1024;

export async function fileVerb(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'share')
    throw usage(sub ? `unknown file command "${sub.slice(0, 20)}" (share)` : 'file needs a command: share');
  const { values: v, positionals } = parse(rest, {
    group: { type: 'string' },
    to: { type: 'string' },
    via: { type: 'string' },
    name: { type: 'string' },
    comment: { type: 'string' },
    'public-url': { type: 'string' },
    'from-url': { type: 'string' },
  });
  if ((v.group === undefined) === (v.to === undefined)) throw usage('give exactly one of --group or --to');
  if (v.via !== undefined && !['robot', 'app', 'notice'].includes(v.via))
    throw usage('--via is robot, app or notice');
  const src = positionals[0];
  if (v['from-url'] !== undefined ? positionals.length > 0 : src === undefined || positionals.length > 1) {
    throw usage('file share needs one PATH (or - for stdin), or --from-url URL');
  }

  let content: Buffer | NodeJS.ReadableStream;
  let size: number | undefined;
  let fileName: string;
  if (v['from-url'] !== undefined) {
    const { fetchFile } = await import('../hub/files/fetch.js');
    const fetched = await fetchFile(v['from-url'], {
      maxBytes: FILE_LIMIT_BYTES,
      ...(v.name ? { fileName: v.name } : {}),
    });
    content = fetched.content;
    size = fetched.size;
    fileName = fetched.fileName;
  } else if (src === '-') {
    if (!v.name) throw usage('reading stdin: give the file a --name');
    const buf = await readAll(ctx.io.stdin);
    content = buf;
    size = buf.length;
    fileName = v.name;
  } else {
    const path = resolve(ctx.io.cwd, src!);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      throw new CliError(EXIT.failure, `cannot read ${src}`, 'no_file');
    }
    if (!st.isFile()) throw new CliError(EXIT.failure, `${src} is not a file`, 'no_file');
    size = st.size;
    fileName = v.name ?? basename(path);
    content = size <= FILE_LIMIT_BYTES ? createReadStream(path) : Buffer.alloc(0);
  }
  if (size === 0) throw new CliError(EXIT.failure, 'the file is empty', 'invalid_file');
  if (size !== undefined && size > FILE_LIMIT_BYTES) {
    throw new CliError(
      EXIT.failure,
      `the file is ${formatBytes(size)}; DingTalk accepts files up to 20 MiB`,
      'too_large',
    );
  }

  const input = {
    group: v.group,
    to: list(v.to),
    via: v.via as 'robot' | 'app' | 'notice' | undefined,
    fileName,
    size,
    content,
    comment: v.comment,
    publicUrl: v['public-url'],
  };
  const hub = await ctx.hub();
  // Unknown size (a URL without content-length): no bar, the hub and the API enforce the cap while streaming.
  const bar = new ProgressBar(ctx.io.stderr, {
    total: size ?? 0,
    label: `uploading ${fileName}`,
    bytes: true,
  });
  const share =
    hub instanceof RemoteHub
      ? await hub.shareFileWithProgress(input, (n) => bar.update(n)).finally(() => bar.finish())
      : await hub.shareFile(input, ctx.actor);
  ctx.out.result(
    share,
    () =>
      `shared ${share.fileName} (${formatBytes(share.size)}) with ${share.target} via ${share.channel}: ${share.status}`,
  );
  return EXIT.ok;
}

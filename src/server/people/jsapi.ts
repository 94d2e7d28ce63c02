/**
 * The part of DingTalk's official page SDK (`dingtalk-jsapi`) the people's pages use: `env.platform` (inside
 * DingTalk or not) and `requestAuthCode` (the 免登 code, docs/dingtalk.md §13.2). The package ships CommonJS modules,
 * not a browser file, so the two are bundled with esbuild into one script that sets `globalThis.dingkitJsapi`, and
 * the hub serves it itself: no CDN, the page loads nothing from another host.
 *
 * `npm run build` writes the bundle next to this module (`dingtalk-jsapi.bundle.js`); without it (tests, `tsx`) it is
 * bundled once on first request and kept in memory.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILT = join(HERE, 'dingtalk-jsapi.bundle.js');

const ENTRY = [
  "import core from 'dingtalk-jsapi/core';",
  "import requestAuthCode from 'dingtalk-jsapi/api/union/requestAuthCode';",
  'globalThis.dingkitJsapi = { platform: core.env.platform, requestAuthCode: requestAuthCode };',
].join('\n');

let cached: Promise<string> | undefined;

async function bundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: HERE, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2017',
    write: false,
    logLevel: 'silent',
    legalComments: 'inline',
  });
  return r.outputFiles[0]!.text;
}

/** The bundle's text: the built file when there is one, otherwise bundled now (once per process). */
export function jsapiBundle(): Promise<string> {
  cached ??= readFile(BUILT, 'utf8').catch(() => bundle());
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** Writes the bundle for the published package (`npm run build`). */
export async function writeJsapiBundle(): Promise<void> {
  await writeFile(BUILT, await bundle());
}

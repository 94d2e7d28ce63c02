/**
 * Relative paths in the config (a hook route's `templates.dir`) are read from the config file's directory, not from
 * wherever `dingkit` was started: `serve --config /etc/dingkit/dingkit.yaml` run from `/` finds `./templates` next
 * to the file. Here `serve` runs in this process from another directory; a delivery to the route comes out in the
 * route's own template. The twin starts the same config the way `serve` did before (relative to the working
 * directory) and shows the start refuses it, so the first test could fail.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CliContext } from '../../src/cli/context.js';
import type { CliIo } from '../../src/cli/io.js';
import { launchHub } from '../../src/cli/launch-hub.js';
import { serveVerb } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/hub/config.js';
import { tempDir } from '../e2e/hub-helpers.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'config-dir-token-0123456789';
const conf = tempDir();
const elsewhere = tempDir();
afterAll(() => {
  conf.cleanup();
  elsewhere.cleanup();
});

mkdirSync(join(conf.dir, 'tpl'));
writeFileSync(join(conf.dir, 'tpl', 'event.liquid'), 'From the config dir: {{ body.what }}');
const configPath = join(conf.dir, 'dingkit.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    server: { port: 0 },
    emulator: { mode: 'on', port: 0 },
    database: { url: `sqlite:${join(conf.dir, 'hub.db')}` },
    gateways: {
      flushMs: 20,
      routes: [
        {
          name: 'deploys',
          kind: 'generic',
          auth: { type: 'token', header: 'x-token', token: TOKEN },
          targets: { groups: ['ops'] },
          templates: { dir: './tpl', event: 'event.liquid' },
        },
      ],
    },
  }),
);

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

describe('serve reads relative config paths from the config file’s directory', () => {
  it('a route template under ./tpl next to the config is used, serve started elsewhere', async () => {
    const stdout = new Collect();
    const io: CliIo = {
      stdout,
      stderr: new Collect(),
      stdin: Readable.from([]),
      env: {},
      cwd: elsewhere.dir,
    };
    const ctx = new CliContext(io, {
      json: true,
      url: undefined,
      token: undefined,
      config: configPath,
      help: false,
    });
    let stop!: () => void;
    const until = new Promise<void>((r) => {
      stop = r;
    });
    const before = process.cwd();
    process.chdir(elsewhere.dir);
    try {
      const served = serveVerb(['--no-demo', '--log', 'json'], ctx, { until });
      const banner = await waitFor(() => {
        try {
          return JSON.parse(stdout.text) as { hooks: string[]; emulator: string };
        } catch {
          return undefined;
        }
      }, 30_000);
      const res = await fetch(banner.hooks[0]!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-token': TOKEN },
        body: JSON.stringify({ what: 'v1.2 shipped' }),
      });
      expect(res.status).toBe(202);
      const seen = await waitFor(async () => {
        const all = (await (await fetch(`${banner.emulator}/_emulator/messages`)).json()) as Array<{
          text: string;
        }>;
        return all.find((m) => m.text.includes('From the config dir: v1.2 shipped'));
      });
      expect(seen.text).toContain('From the config dir: v1.2 shipped');
      stop();
      expect(await served).toBe(0);
    } finally {
      stop();
      process.chdir(before);
      await ctx.close();
    }
  }, 60_000);

  it('standalone (no hub running), hooks list starts one on the same store from the config dir and lists what serve took', async () => {
    const r = await runCliInProcess(['hooks', 'list', '--json', '--config', configPath], {
      cwd: elsewhere.dir,
      env: {},
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(TOKEN);
    const { routes } = JSON.parse(r.stdout) as {
      routes: Array<{ name: string; auth: unknown; recent: Array<{ result: string; summary: string }> }>;
    };
    expect(routes.map((x) => [x.name, x.auth])).toEqual([['deploys', { type: 'token', header: 'x-token' }]]);
    expect(routes[0]!.recent[0]).toMatchObject({ result: 'sent', summary: '1 event: event' });
  }, 60_000);

  it('twin: the same config read relative to the working directory does not start', async () => {
    const { config } = loadConfig({ path: configPath, env: {} });
    await expect(launchHub({ config, configDir: elsewhere.dir })).rejects.toThrow(
      /templates.dir: cannot read the directory/,
    );
  });
});

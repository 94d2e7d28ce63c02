/**
 * Emulator throughput (≥ 10,000 robot sends/s and ≥ 20,000 Stream frames/s on one core).
 * Run: `node --import tsx bench/emulator/run.ts [seconds]`. The server runs in a child process (one core for it);
 * this process drives it with an undici keep-alive pool at concurrency 64 and prints one table, side by side
 * with a bare node:http server answering the same trivial JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { Pool } from 'undici';
import { WebSocket } from 'ws';
import { DEMO_ORG } from '../../src/emulator/demo-org.js';

const SECONDS = Number(process.argv[2] ?? 5);
const CONCURRENCY = 64;
const app = DEMO_ORG.org.apps[0]!;
const alerts = DEMO_ORG.org.customRobots[0]!;

async function spawnServer(mode: 'emulator' | 'bare'): Promise<{ child: ChildProcess; origin: string }> {
  // BENCH_PROFILE=dir writes a CPU profile of the server process there (for finding hot spots).
  const dir = process.env['BENCH_PROFILE'];
  const prof = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  const child = spawn(
    process.execPath,
    [...prof, '--import', 'tsx', new URL('./server.ts', import.meta.url).pathname, mode],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buf = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, origin: `http://127.0.0.1:${port}` };
}

interface Result {
  name: string;
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function drive(
  name: string,
  origin: string,
  make: () => { path: string; body: string; headers: Record<string, string> },
  check: (status: number, text: string) => boolean,
): Promise<Result> {
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 });
  const lat: number[] = [];
  let errors = 0;
  const warmEnd = Date.now() + 500;
  const end = warmEnd + SECONDS * 1000;
  let counted = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const r = make();
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'POST', path: r.path, body: r.body, headers: r.headers });
        const text = await res.body.text();
        if (!check(res.statusCode, text)) errors++;
      } catch {
        errors++;
      }
      if (Date.now() >= warmEnd) {
        counted++;
        if (lat.length < 200_000) lat.push(performance.now() - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await pool.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0;
  return { name, requests: counted, errors, perSecond: counted / SECONDS, p50: q(0.5), p99: q(0.99) };
}

async function streamFrames(origin: string, count: number): Promise<Result> {
  const open = await fetch(`${origin}/v1.0/gateway/connections/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: app.appKey,
      clientSecret: app.appSecret,
      subscriptions: [{ type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' }],
    }),
  });
  const { endpoint, ticket } = (await open.json()) as { endpoint: string; ticket: string };
  const ws = new WebSocket(`${endpoint}?ticket=${ticket}`);
  await once(ws, 'open');
  let got = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  ws.on('message', (raw) => {
    const f = JSON.parse(String(raw)) as { type: string; headers: { messageId: string } };
    if (f.type !== 'CALLBACK') return;
    ws.send(
      `{"code":200,"headers":{"messageId":"${f.headers.messageId}","contentType":"application/json"},"message":"OK","data":"{}"}`,
    );
    if (++got === count) done();
  });
  const t0 = performance.now();
  const burst = await fetch(`${origin}/_emulator/stream/burst`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count }),
  });
  if (burst.status !== 200) throw new Error(`burst failed ${burst.status}`);
  await finished;
  const secs = (performance.now() - t0) / 1000;
  ws.close();
  return {
    name: 'Stream CALLBACK frames pushed + acked',
    requests: count,
    errors: 0,
    perSecond: count / secs,
    p50: 0,
    p99: 0,
  };
}

const results: Result[] = [];
const bare = await spawnServer('bare');
results.push(
  await drive(
    'bare node:http (baseline)',
    bare.origin,
    () => ({ path: '/', body: '{}', headers: { 'content-type': 'application/json' } }),
    (s) => s === 200,
  ),
);
bare.child.kill();
await once(bare.child, 'exit');

const emu = await spawnServer('emulator');
const okErrcode = (s: number, t: string) => s === 200 && t.includes('"errcode":0');
let n = 0;
results.push(
  await drive(
    'custom robot send (sign-secured)',
    emu.origin,
    () => {
      const ts = String(Date.now());
      const secret = alerts.security.secret!;
      const sign = encodeURIComponent(
        createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64'),
      );
      return {
        path: `/robot/send?access_token=${alerts.token}&timestamp=${ts}&sign=${sign}`,
        body: JSON.stringify({ msgtype: 'text', text: { content: `bench ${n++}` } }),
        headers: { 'content-type': 'application/json' },
      };
    },
    okErrcode,
  ),
);
const tokenRes = await fetch(`${emu.origin}/v1.0/oauth2/accessToken`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ appKey: app.appKey, appSecret: app.appSecret }),
});
const { accessToken } = (await tokenRes.json()) as { accessToken: string };
results.push(
  await drive(
    'app robot group send',
    emu.origin,
    () => ({
      path: '/v1.0/robot/groupMessages/send',
      body: JSON.stringify({
        robotCode: app.robotCode,
        openConversationId: DEMO_ORG.org.groups[0]!.openConversationId,
        msgKey: 'sampleText',
        msgParam: JSON.stringify({ content: `bench ${n++}` }),
      }),
      headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': accessToken },
    }),
    (s, t) => s === 200 && t.includes('processQueryKey'),
  ),
);
results.push(await streamFrames(emu.origin, 100_000));
emu.child.kill();
await once(emu.child, 'exit');

console.log(
  `\nEmulator throughput: ${SECONDS} s per HTTP case after 0.5 s warm-up, concurrency ${CONCURRENCY}, server in its own process\n`,
);
console.log('| case | requests | errors | per second | p50 ms | p99 ms |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.requests} | ${r.errors} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50 ? r.p50.toFixed(2) : '-'} | ${r.p99 ? r.p99.toFixed(2) : '-'} |`,
  );
}

/**
 * The smallest server that answers the benchmarked DingTalk calls correctly, so that what a benchmark measures is
 * the client's own overhead. Runs in its own process; prints `PORT <n>` when listening.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const OK = Buffer.from('{"errcode":0,"errmsg":"ok"}');
const TOKEN = Buffer.from('{"accessToken":"bench-token-0000","expireIn":7200}');
const LEGACY_TOKEN = Buffer.from(
  '{"errcode":0,"errmsg":"ok","access_token":"bench-token-0000","expires_in":7200}',
);
const GROUP = Buffer.from('{"processQueryKey":"bench-pqk"}');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '';
    let body = OK;
    if (url.startsWith('/v1.0/oauth2/accessToken')) body = TOKEN;
    else if (url.startsWith('/gettoken')) body = LEGACY_TOKEN;
    else if (url.startsWith('/v1.0/robot/groupMessages/send')) body = GROUP;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

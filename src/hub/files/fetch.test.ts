import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { makeTempDir, spoolTo } from '../../core/temp-file.js';
import { parseConfig } from '../config.js';
import { fetchFile } from './fetch.js';

/** What the hub does with a fetched body: spooled to a temporary file, stopped at the cap. */
async function spool(source: AsyncIterable<Uint8Array>, cap: number): Promise<number> {
  const t = await makeTempDir();
  try {
    const r = await spoolTo(
      source,
      join(t.dir, 'f'),
      cap,
      (n) => new ValidationError(`${n} bytes; nothing was sent`),
    );
    return r.size;
  } finally {
    await t.remove();
  }
}

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/report.pdf') {
      res.end(Buffer.alloc(1000, 1));
    } else if (req.url === '/named') {
      res.setHeader('content-disposition', 'attachment; filename="../../etc/evil.pdf"');
      res.end('x');
    } else if (req.url === '/big') {
      res.setHeader('content-length', String(5_000));
      res.end(Buffer.alloc(5_000));
    } else if (req.url === '/endless') {
      // No content-length: chunks until the client stops reading.
      const t = setInterval(() => res.write(Buffer.alloc(1024)), 1);
      res.on('close', () => clearInterval(t));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('fetching a file to share', () => {
  it('streams the body and names it from the URL or a sanitised content-disposition', async () => {
    const f = await fetchFile(`${base}/report.pdf`);
    expect(f.fileName).toBe('report.pdf');
    expect(f.size).toBe(1000);
    expect(await spool(f.content, 2000)).toBe(1000);
    const n = await fetchFile(`${base}/named`);
    expect(n.fileName).toBe('evil.pdf');
    n.content.on('error', () => {});
    n.content.destroy();
  });

  it('refuses non-http URLs, error statuses and declared oversize bodies before reading', async () => {
    await expect(fetchFile('file:///etc/passwd')).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(fetchFile(`${base}/missing.pdf`)).rejects.toThrow(/HTTP 404/);
    await expect(fetchFile(`${base}/big`, { maxBytes: 4_000 })).rejects.toThrow(/over the 4000/);
  });

  it('stops reading an endless body at the cap', async () => {
    const f = await fetchFile(`${base}/endless`);
    const cfg = parseConfig({}, {}).files;
    expect(cfg.maxBytes).toBeGreaterThan(0);
    await expect(spool(f.content, 50_000)).rejects.toThrow(/nothing was sent/);
  });
});

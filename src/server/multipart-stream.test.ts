import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, openSink, type TempDir } from '../core/temp-file.js';
import { ApiError } from './api-error.js';
import { boundaryOf, readMultipart } from './multipart-stream.js';

const B = 'XyZ-boundary-42';

function body(parts: Array<{ name: string; filename?: string; data: Buffer | string }>): Buffer {
  const out: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const p of parts) {
    const fn = p.filename === undefined ? '' : `; filename="${p.filename}"`;
    out.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${p.name}"${fn}\r\n\r\n`));
    out.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    out.push(Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${B}--\r\nepilogue`));
  return Buffer.concat(out);
}

/** Yields `buf` in chunks of `size` bytes (1 = every byte boundary is a chunk boundary). */
async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

let tmp: TempDir | undefined;
afterEach(async () => {
  await tmp?.remove();
});

async function read(buf: Buffer, chunk: number, maxFileBytes = 1 << 20) {
  tmp = await makeTempDir();
  const path = join(tmp.dir, 'f');
  let sink: Awaited<ReturnType<typeof openSink>> | undefined;
  try {
    const r = await readMultipart(chunks(buf, chunk), B, { fileField: 'file', maxFileBytes }, async () => {
      sink = await openSink(path);
      return sink;
    });
    await sink?.close();
    return { ...r, bytes: r.file ? readFileSync(path) : undefined };
  } finally {
    await sink?.close();
  }
}

describe('streaming multipart reader', () => {
  it('reads fields and the file part byte-exact, whatever the chunking', async () => {
    // File bytes that contain a CRLF, dashes and most of the boundary: only the full delimiter ends a part.
    const data = Buffer.concat([
      randomBytes(3000),
      Buffer.from(`\r\n--${B.slice(0, -1)}\r\n--`),
      randomBytes(100),
    ]);
    const raw = body([
      { name: 'group', data: 'ops' },
      { name: 'file', filename: 'r%22e\u202Eport.pdf', data },
      { name: 'comment', data: '季度报告\r\nline 2' },
    ]);
    for (const size of [1, 7, 64, 4096, raw.length]) {
      const r = await read(raw, size);
      expect(r.fields).toEqual({ group: 'ops', comment: '季度报告\r\nline 2' });
      expect(r.file).toEqual({ filename: 'r"e\u202Eport.pdf', size: data.length });
      expect(Buffer.compare(r.bytes!, data)).toBe(0);
      await tmp?.remove();
    }
  });

  it('refuses the first byte over the file cap with a 413, without reading the rest', async () => {
    const raw = body([{ name: 'file', filename: 'a.pdf', data: Buffer.alloc(10_000, 1) }]);
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const c of chunks(raw, 1000)) {
        pulled += c.length;
        yield c;
      }
    }
    tmp = await makeTempDir();
    const dir = tmp.dir;
    const e = await readMultipart(counted(), B, { fileField: 'file', maxFileBytes: 2_000 }, () =>
      openSink(join(dir, 'f')),
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(413);
    expect(pulled).toBeLessThan(5_000);
  });

  it('refuses malformed bodies with a 400', async () => {
    const cases: Buffer[] = [
      Buffer.from(
        `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\nunterminated`,
      ),
      body([
        { name: 'file', filename: 'a.pdf', data: 'x' },
        { name: 'file', filename: 'b.pdf', data: 'y' },
      ]),
      body([
        { name: 'to', data: 'a' },
        { name: 'to', data: 'b' },
      ]),
      body([{ name: 'other', filename: 'x.pdf', data: 'x' }]),
      Buffer.from(`--${B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${B}--`),
      Buffer.from('no boundary at all'.repeat(1000)),
    ];
    for (const raw of cases) {
      const e = await read(raw, 100).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect((e as ApiError | undefined)?.status, raw.subarray(0, 80).toString()).toBe(400);
      await tmp?.remove();
    }
  });

  it('reads the boundary from the content type', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b"')).toBe('a b');
    expect(boundaryOf('application/json')).toBeUndefined();
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fakeTransport,
  type RecordedRequest,
  type Reply,
  testOptions,
} from '../../../test/support/fake-transport.js';
import { DingTalk } from '../../client.js';
import { NetworkError, ValidationError } from '../../core/errors.js';
import { isStreamBody } from '../../core/transport.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dingkit-media-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const uploaded = {
  body: { errcode: 0, errmsg: 'ok', type: 'file', media_id: '@lADOmedia', created_at: 1605863153573 },
};

function client(script: (req: RecordedRequest, n: number) => Reply = () => uploaded, extra = {}) {
  const t = fakeTransport(script);
  return { dt: new DingTalk({ ...testOptions, transport: t.send, ...extra }), t };
}

/** The exact multipart body expected for one `type` field and one `media` file. */
function expectedBody(boundary: string, type: string, name: string, ctype: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n${type}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="${name}"\r\nContent-Type: ${ctype}\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

function boundaryOf(req: RecordedRequest): string {
  const m = /^multipart\/form-data; boundary=(.+)$/.exec(req.headers['content-type'] ?? '');
  expect(m).not.toBeNull();
  return m![1]!;
}

describe('media upload (docs/dingtalk.md §6.1)', () => {
  it('strips bidi and control characters from the name, then checks the extension on what is left', async () => {
    const { dt, t } = client();
    const data = Buffer.from('%PDF-1.4');
    const r = await dt.media.upload({ type: 'file', source: data, fileName: 're\u202Eport\u0007.pdf' });
    expect(r.fileName).toBe('report.pdf');
    expect(t.calls[0]!.body!.toString('utf8')).toContain('filename="report.pdf"');
    // `invoice\u202Efdp.exe` displays as `invoiceexe.pdf`: its real extension is refused, nothing is sent.
    for (const bad of ['invoice\u202Efdp.exe', '..', 'a/b.pdf', '\u202E']) {
      await expect(
        dt.media.upload({ type: 'file', source: data, fileName: bad }),
        bad,
      ).rejects.toBeInstanceOf(ValidationError);
    }
    expect(t.calls).toHaveLength(1);
  });

  it('sends a Buffer as multipart with fields type + media, type also in the query', async () => {
    const { dt, t } = client();
    const data = Buffer.from('%PDF-1.4 fake pdf\r\n--not-a-boundary\r\n');
    const r = await dt.media.upload({ type: 'file', source: data, fileName: 'report.pdf' });
    expect(r).toEqual({
      mediaId: '@lADOmedia',
      type: 'file',
      createdAt: 1605863153573,
      size: data.length,
      fileName: 'report.pdf',
    });
    const c = t.calls[0]!;
    expect(c.path).toBe('/media/upload?type=file&access_token=app-token-canary-777');
    expect(c.bytes.equals(expectedBody(boundaryOf(c), 'file', 'report.pdf', 'application/pdf', data))).toBe(
      true,
    );
    expect(Number(c.headers['content-length'])).toBe(c.bytes.length);
  });

  it('streams a file from a path with an exact content-length', async () => {
    const path = join(dir, 'photo.png');
    const data = Buffer.alloc(300_000, 7);
    await writeFile(path, data);
    const { dt, t } = client();
    await dt.media.upload({ type: 'image', source: path });
    const c = t.calls[0]!;
    expect(isStreamBody(c.body)).toBe(true);
    expect(c.bytes.equals(expectedBody(boundaryOf(c), 'image', 'photo.png', 'image/png', data))).toBe(true);
    expect(Number(c.headers['content-length'])).toBe(c.bytes.length);
  });

  it('reopens the file when the upload is retried', async () => {
    const path = join(dir, 'retry.pdf');
    await writeFile(path, 'retry me');
    const { dt, t } = client((_req, n) => (n === 1 ? new NetworkError('refused') : uploaded));
    await dt.media.upload({ type: 'file', source: path });
    expect(t.calls).toHaveLength(2);
    expect(t.calls[1]!.bytes.includes(Buffer.from('retry me'))).toBe(true);
    expect(t.calls[0]!.bytes.length).toBe(t.calls[1]!.bytes.length - 0);
  });

  it('reads a Readable into memory and uploads it', async () => {
    const { dt, t } = client();
    await dt.media.upload({
      type: 'voice',
      source: Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
      fileName: 'x.mp3',
    });
    const c = t.calls[0]!;
    expect(
      c.bytes.equals(expectedBody(boundaryOf(c), 'voice', 'x.mp3', 'audio/mpeg', Buffer.from('abcd'))),
    ).toBe(true);
  });

  it.each([
    [{ type: 'gif', source: Buffer.from('x'), fileName: 'a.gif' }, 'type'],
    [{ type: 'image', source: Buffer.from('x'), fileName: 'a.pdf' }, 'fileName'],
    [{ type: 'file', source: Buffer.from('x'), fileName: 'noext' }, 'fileName'],
    [{ type: 'file', source: Buffer.from('x') }, 'fileName'],
    [{ type: 'file', source: Buffer.alloc(0), fileName: 'a.pdf' }, 'source'],
    [{ type: 'file', source: Buffer.from('x'), fileName: 'a"\r\nb.pdf' }, 'fileName'],
    [{ type: 'voice', source: Buffer.alloc(2 * 1024 * 1024 + 1), fileName: 'a.mp3' }, 'source'],
    [{ type: 'file', source: '/definitely/not/here.pdf' }, 'source'],
    [{ type: 'file', source: 42, fileName: 'a.pdf' }, 'source'],
  ])('refuses %# before any I/O', async (input, field) => {
    const { dt, t } = client();
    const err = await dt.media.upload(input as never).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe(field);
    expect(t.calls).toHaveLength(0);
  });

  it('stops reading a stream past the limit', async () => {
    let pulled = 0;
    const src = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const { dt, t } = client(undefined, { media: { rules: { voice: { maxBytes: 256 * 1024 } } } });
    const err = await dt.media.upload({ type: 'voice', source: src, fileName: 'a.amr' }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(pulled).toBeLessThan(10);
    expect(src.destroyed).toBe(true);
    expect(t.calls).toHaveLength(0);
  });

  it('refuses a directory and a file over the limit by stat, without reading it', async () => {
    const { dt } = client(undefined, { media: { rules: { file: { maxBytes: 10 } } } });
    await expect(dt.media.upload({ type: 'file', source: dir, fileName: 'x.pdf' })).rejects.toThrow(
      /regular file/,
    );
    const big = join(dir, 'big.pdf');
    await writeFile(big, 'x'.repeat(11));
    await expect(dt.media.upload({ type: 'file', source: big })).rejects.toThrow(/11 bytes/);
  });

  it('an answer without media_id is an unknown outcome', async () => {
    const { dt } = client(() => ({ body: { errcode: 0 } }));
    const err = await dt.media
      .upload({ type: 'file', source: Buffer.from('x'), fileName: 'a.pdf' })
      .catch((e) => e);
    expect(err.code).toBe('BAD_RESPONSE');
  });

  it('maps 40004 (invalid media type) to a platform error', async () => {
    const { dt } = client(() => ({ body: { errcode: 40004, errmsg: 'invalid media type' } }));
    const err = await dt.media
      .upload({ type: 'file', source: Buffer.from('x'), fileName: 'a.pdf' })
      .catch((e) => e);
    expect(err.errcode).toBe(40004);
  });
});

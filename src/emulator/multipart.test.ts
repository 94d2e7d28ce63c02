import { describe, expect, it } from 'vitest';
import { boundaryOf, parseMultipart } from './multipart.js';

const B = 'XyZ123';
const body = (parts: string[]) =>
  Buffer.from(`${parts.map((p) => `--${B}\r\n${p}\r\n`).join('')}--${B}--\r\n`, 'latin1');

describe('parseMultipart', () => {
  it('reads fields and files, keeping binary bytes exact', () => {
    const parts = parseMultipart(
      body([
        'Content-Disposition: form-data; name="type"\r\n\r\nfile',
        'Content-Disposition: form-data; name="media"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n\x00\xff\r\nx',
      ]),
      B,
    );
    expect(parts?.map((p) => p.name)).toEqual(['type', 'media']);
    expect(parts?.[0]?.data.toString()).toBe('file');
    expect(parts?.[1]).toMatchObject({ filename: 'a.pdf', contentType: 'application/pdf' });
    expect([...(parts?.[1]?.data ?? [])]).toEqual([0, 255, 13, 10, 120]);
  });

  it('returns undefined for malformed bodies instead of throwing', () => {
    for (const raw of [
      '',
      'garbage',
      `--${B}\r\nno blank line`,
      `--${B}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${B}--`,
    ]) {
      expect(parseMultipart(Buffer.from(raw), B)).toBeUndefined();
    }
    expect(parseMultipart(Buffer.from('x'), '')).toBeUndefined();
  });

  it('finds the boundary, quoted or not', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(boundaryOf('application/json')).toBeUndefined();
  });
});

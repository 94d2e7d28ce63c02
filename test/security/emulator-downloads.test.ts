/**
 * A file a person sends to the bot is served back by the emulator at `/_emulator/files/<code>` (the temporary
 * download URL of docs/dingtalk.md §3.1), with the content type the sender chose. An HTML file opened from there would run
 * its script on the emulator's origin, the same origin as `/_emulator/org` (app secrets) and the control API. The
 * download must be an attachment the browser will not render or sniff, in a sandbox, and the sender's file name
 * (quotes, CR/LF) must not inject a header or break the answer.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/emulator.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0, seed: 9 });
});
afterAll(async () => emu?.close());

async function sendFile(fileName: string, contentType: string, content: string): Promise<string> {
  const before = new Set(emu.state.downloads.keys());
  const res = await fetch(`${emu.url}/_emulator/users/alice/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      file: { fileName, contentType, contentBase64: Buffer.from(content).toString('base64') },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const code = [...emu.state.downloads.keys()].find((k) => !before.has(k));
  expect(code).toBeDefined();
  return code!;
}

describe('the emulator serves people’s files as inert downloads', () => {
  it('attack: an HTML file with a script, sent as text/html → attachment, nosniff, CSP sandbox', async () => {
    const code = await sendFile('report.html', 'text/html', '<script>fetch("/_emulator/org")</script>');
    const res = await fetch(`${emu.url}/_emulator/files/${code}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''report.html");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    // The bytes are still the sender's, unchanged.
    expect(await res.text()).toBe('<script>fetch("/_emulator/org")</script>');
  });

  it('attack: a file name with a quote, CR/LF and a forged header → one encoded filename, no injected header', async () => {
    const code = await sendFile('a"b\r\nset-cookie: pwned=1\r\n.txt', 'text/plain', 'x');
    const res = await fetch(`${emu.url}/_emulator/files/${code}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('content-disposition')).toBe(
      "attachment; filename*=UTF-8''a%22b%0D%0Aset-cookie%3A%20pwned%3D1%0D%0A.txt",
    );
    // And the emulator is still up.
    expect((await fetch(`${emu.url}/_emulator/health`)).status).toBe(200);
  });

  it('attack: a content type with CR/LF (a header of its own) → served as octet-stream, the emulator stays up', async () => {
    const code = await sendFile('x.bin', 'text/html\r\nx-evil: 1', '<b>x</b>');
    const res = await fetch(`${emu.url}/_emulator/files/${code}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-evil')).toBeNull();
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect((await fetch(`${emu.url}/_emulator/health`)).status).toBe(200);
  });
});

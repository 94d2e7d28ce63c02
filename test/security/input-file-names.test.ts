/**
 * Attack: a file name carrying bidi controls or other invisible characters. `U+202E` (right-to-left override)
 * makes `photo\u202Egnp.zip` display as `photopiz.png`: the recipient sees a false extension. Directory parts
 * (`../../x.pdf`) try to name a path. Defence: C0/C1 controls and bidi controls are stripped from every file name
 * (API upload, hub `shareFile`, the library's media upload), the extension is checked on what is left, and a
 * name with a path separator or `..` is refused.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDingTalkError } from '../../src/core/errors.js';
import {
  backends,
  ENG,
  type HubApi,
  type HubFixture,
  hubApi,
  startTestHub,
  waitFor,
} from '../e2e/hub-helpers.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const pdf = Buffer.from('%PDF-1.4 hello');

describe('file names', () => {
  let fx: HubFixture;
  let app: HubApi['app'];
  let token = '';

  const upload = (name: string, asField = false) => {
    const form = new FormData();
    form.append('group', 'engineering');
    if (asField) form.append('fileName', name);
    form.append('file', new Blob([pdf]), asField ? 'plain.pdf' : name);
    return app.request('/v1/files', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
  };

  beforeAll(async () => {
    fx = await startTestHub(sqlite);
    ({ app, token } = await hubApi(fx.hub));
  }, 60_000);

  afterAll(async () => {
    await fx?.cleanup();
  });

  it('strips bidi and control characters before the name is stored, uploaded and sent', async () => {
    for (const [raw, want, asField] of [
      ['photo\u202Egnp.zip', 'photognp.zip', false],
      ['re\u202Aport\u2066.pdf', 'report.pdf', true],
      ['q3\u0085\u200F\u061C.docx', 'q3.docx', true],
      ['x.p\u200Edf', 'x.pdf', true],
    ] as const) {
      const res = await upload(raw, asField);
      const text = await res.text();
      expect(res.status, `${JSON.stringify(raw)}: ${text}`).toBe(202);
      const share = JSON.parse(text) as { fileName: string; mediaId: string };
      expect(share.fileName).toBe(want);
      expect(fx.hub.emulator!.state.media.get(share.mediaId)?.filename).toBe(want);
      const msg = await waitFor(() =>
        fx.hub
          .emulator!.messages(ENG)
          .find((m) => m.type === 'sampleFile' && JSON.stringify(m.content).includes(share.mediaId)),
      );
      expect(JSON.stringify(msg.content)).not.toMatch(INVISIBLE);
      expect((msg.content as { fileName: string }).fileName).toBe(want);
    }
    for (const s of await fx.hub.listShares()) expect(s.fileName).not.toMatch(INVISIBLE);
  });

  it('checks the extension on the cleaned name: a disguised executable is refused, nothing sent', async () => {
    const before = fx.hub.emulator!.state.media.size;
    for (const raw of ['invoice\u202Efdp.exe', 'report.pdf\u202Eexe.', 'cv.pdf\u200E.js', 'a.pdf\u0000.sh']) {
      const res = await upload(raw, true);
      expect(res.status, JSON.stringify(raw)).toBe(400);
    }
    expect(fx.hub.emulator!.state.media.size).toBe(before);
  });

  it('refuses a name with a directory part or `..`', async () => {
    for (const raw of ['../../etc/x.pdf', '..\\x.pdf', 'a/b.pdf', '..', '\u202E..']) {
      const res = await upload(raw, true);
      expect(res.status, JSON.stringify(raw)).toBe(400);
    }
    const e = await fx.hub
      .shareFile({ group: 'engineering', content: pdf, fileName: '../x.pdf' }, { by: 't' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isDingTalkError(e) && e.code === 'VALIDATION').toBe(true);
  });

  it('the hub and the library clean names the same way', async () => {
    const s = await fx.hub.shareFile(
      { group: 'engineering', content: pdf, fileName: 'memo\u202E.pdf' },
      { by: 't' },
    );
    expect(s.fileName).toBe('memo.pdf');
    const { cleanFileName } = await import('../../src/core/file-name.js');
    expect(cleanFileName('a\u202Eb\u0007c.pdf')).toBe('abc.pdf');
  });
});

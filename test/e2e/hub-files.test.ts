import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, ENG, type HubFixture, PRODUCT, startTestHub, testConfig, waitFor } from './hub-helpers.js';

const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3000, 7)]);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`hub file shares over the emulator (${backend.name})`, () => {
    let f: HubFixture;
    beforeAll(async () => {
      f = await startTestHub(backend, {
        config: testConfig({ files: { maxBytes: 64 * 1024, noticeMaxBytes: 8 * 1024 } }),
      });
    });
    afterAll(async () => {
      await f?.cleanup();
    });

    it('shares with a group as a real file message (upload → sampleFile), recorded in the history', async () => {
      const { hub } = f;
      const s = await hub.shareFile(
        { group: 'engineering', content: pdf, fileName: 'report.pdf', comment: 'Q3 report' },
        { by: 't' },
      );
      expect(s).toMatchObject({ channel: 'app', target: 'engineering', size: pdf.length });
      expect(s.mediaId).toMatch(/^[@$]/);
      const media = hub.emulator!.state.media.get(s.mediaId!);
      expect(media).toMatchObject({ size: pdf.length, filename: 'report.pdf', type: 'file' });
      const msg = await waitFor(() => hub.emulator!.messages(ENG).find((m) => m.type === 'sampleFile'));
      expect(msg.content).toMatchObject({ mediaId: s.mediaId, fileName: 'report.pdf', fileType: 'pdf' });
      // The comment goes first, in order, in the same conversation.
      const comment = hub.emulator!.messages(ENG).find((m) => m.text === 'Q3 report');
      expect(comment && comment.seq < msg.seq).toBe(true);
      await waitFor(async () => (await hub.listShares()).find((x) => x.id === s.id)?.status === 'sent');
    });

    it('shares with a person as a work notification file, from a stream', async () => {
      const { hub } = f;
      const s = await hub.shareFile(
        {
          to: ['lisi'],
          via: 'notice',
          content: Readable.from([pdf.subarray(0, 1000), pdf.subarray(1000, 2000)]),
          fileName: 'a.xlsx',
        },
        { by: 't' },
      );
      expect(s.channel).toBe('notice');
      const n = await waitFor(() =>
        hub.emulator!.notices('lisi').find((x) => JSON.stringify(x.msg).includes(s.mediaId!)),
      );
      expect(n.msg).toEqual({ msgtype: 'file', file: { media_id: s.mediaId } });
    });

    it('explains that a custom robot cannot send files, sends nothing; posts a link card given a public URL', async () => {
      const { hub } = f;
      const mediaBefore = hub.emulator!.state.media.size;
      const msgsBefore = hub.emulator!.messages(PRODUCT).length;
      await expect(
        hub.shareFile({ group: 'product', content: pdf, fileName: 'spec.pdf' }, { by: 't' }),
      ).rejects.toThrow(/custom robots cannot send files/);
      expect(hub.emulator!.state.media.size).toBe(mediaBefore);
      const s = await hub.shareFile(
        {
          group: 'product',
          content: pdf,
          fileName: 'spec.pdf',
          publicUrl: 'https://files.example.com/spec.pdf',
        },
        { by: 't' },
      );
      expect(s.channel).toBe('robot-link');
      expect(s.mediaId).toBeUndefined();
      const link = await waitFor(() =>
        hub
          .emulator!.messages(PRODUCT)
          .slice(msgsBefore)
          .find((m) => m.type === 'link'),
      );
      expect(link.content).toMatchObject({ link: { messageUrl: 'https://files.example.com/spec.pdf' } });
      expect(hub.emulator!.state.media.size).toBe(mediaBefore);
    });

    it('refuses a wrong type or an oversize file before anything is sent', async () => {
      const { hub } = f;
      const emu = hub.emulator!;
      const mediaBefore = emu.state.media.size;
      const uploadsBefore = emu.requests({ route: 'POST /media/upload' }).length;
      expect(uploadsBefore).toBeGreaterThan(0); // the route name matches what the emulator records
      await expect(
        hub.shareFile({ group: 'engineering', content: pdf, fileName: 'tool.exe' }, { by: 't' }),
      ).rejects.toThrow(/\.exe files cannot be sent/);
      await expect(
        hub.shareFile(
          { group: 'engineering', content: Buffer.alloc(65 * 1024, 1), fileName: 'big.zip' },
          { by: 't' },
        ),
      ).rejects.toThrow(/over the 0\.06 MB|over the/);
      await expect(
        hub.shareFile(
          {
            to: ['lisi'],
            via: 'notice',
            content: Readable.from([Buffer.alloc(5000), Buffer.alloc(5000)]),
            fileName: 'big.pdf',
          },
          { by: 't' },
        ),
      ).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(
        hub.shareFile({ group: 'engineering', content: Buffer.alloc(0), fileName: 'empty.pdf' }, { by: 't' }),
      ).rejects.toThrow(/empty/);
      await expect(
        hub.shareFile({ group: 'engineering', content: pdf, fileName: '../etc/x.pdf' }, { by: 't' }),
      ).rejects.toThrow(/bare file name/);
      expect(emu.state.media.size).toBe(mediaBefore);
      expect(emu.requests({ route: 'POST /media/upload' }).length).toBe(uploadsBefore);
    });
  });
}

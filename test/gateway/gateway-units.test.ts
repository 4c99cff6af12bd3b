/**
 * Unit tests of the gateway's small pure parts: the configuration schema, the streaming URL rewriter
 * and the routing header reader (on every file of ../shared/data, and on truncations).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import { parseGatewayConfig } from '../../src/gateway/config';
import { replaceStream } from '../../src/gateway/dicomweb/replace-stream';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import { DATA_DIR } from './harness';

const minimal = {
  upstreams: { orthanc: { url: 'http://127.0.0.1:8042/', username: 'gateway', password: 'pw' } },
  embedding: { keyRingFile: '/tmp/keys.json' },
  auth: {},
};

describe('parseGatewayConfig', () => {
  it('fills the documented defaults and freezes the result', () => {
    const config = parseGatewayConfig(minimal);
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      root: '/dicom-web',
      cors: { origins: [], maxAgeSec: 600 },
    });
    expect(config.upstreams.orthanc?.url).toBe('http://127.0.0.1:8042');
    expect(config.upstreams.orthanc?.dicomWebRoot).toBe('/dicom-web');
    expect(config.embedding).toMatchObject({
      defaultProfile: 'fidelity',
      defaultSegmenter: 'onnx-maskrcnn',
      marginPx: 4,
      workers: 2,
    });
    expect(config.audit).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http.cors.origins)).toBe(true);
  });

  it('reports every problem at once, by path, without values', () => {
    let message = '';
    try {
      parseGatewayConfig({
        ...minimal,
        http: { port: 70000, root: 'no-slash' },
        upstreams: { orthanc: { url: 'ftp://x', username: '', password: 'secret-value' } },
        defaultUpstream: 'missing',
        embedding: { keyRingFile: '/k', workers: -1, defaultProfile: 'nope' },
        unknownKey: true,
      });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      message = (error as Error).message;
    }
    for (const where of [
      'http.port',
      'http.root',
      'upstreams.orthanc.url',
      'upstreams.orthanc.username',
      'embedding.workers',
      'embedding.defaultProfile',
      '(root)',
    ]) {
      expect(message).toContain(where);
    }
    expect(message).not.toContain('secret-value');
  });
});

async function rewrite(input: string, chunks: readonly number[], from: string, to: string) {
  const stream = new PassThrough();
  const out = stream.pipe(replaceStream(from, to));
  setImmediate(() => {
    const bytes = Buffer.from(input);
    let at = 0;
    let i = 0;
    while (at < bytes.length) {
      const size = Math.max(1, chunks[i % chunks.length] ?? 1);
      stream.write(bytes.subarray(at, at + size));
      at += size;
      i += 1;
    }
    stream.end();
  });
  const parts: Buffer[] = [];
  for await (const chunk of out) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString();
}

describe('replaceStream', () => {
  it('replaces every occurrence whatever the chunk boundaries', async () => {
    const from = 'http://127.0.0.1:8042/dicom-web';
    const to = 'https://gw.example/dicom-web';
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.constant(from), fc.string({ maxLength: 20 }), fc.constant('http://127')),
          {
            maxLength: 12,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
        async (pieces, chunks) => {
          const input = pieces.join('');
          expect(await rewrite(input, chunks, from, to)).toBe(input.split(from).join(to));
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});

const manifest = readFileSync(path.join(DATA_DIR, 'manifest.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t'));
const images = manifest.filter(([file]) => /^(ct|mr)\//.test(file ?? ''));

describe('readInstanceHeader', () => {
  it('locates Pixel Data, from the whole file or from its first bytes with headOnly', () => {
    const bytes = readFileSync(path.join(DATA_DIR, 'ct/lung-pet-ct-dx/1-01.dcm'));
    const whole = readInstanceHeader(bytes);
    if (!whole.ok) throw new Error(whole.message);
    const pixels = whole.header.pixelData;
    expect(pixels?.length).toBe(512 * 512 * 2);
    // The 4 bytes before the value are its length (Explicit VR, OW: PS3.5 7.1.2).
    expect(bytes.readUInt32LE((pixels?.valueOffset ?? 0) - 4)).toBe(512 * 512 * 2);
    expect(bytes.readUInt32LE((pixels?.valueOffset ?? 0) - 12)).toBe(0x00107fe0);
    const head = bytes.subarray(0, (pixels?.valueOffset ?? 0) + 10);
    const cut = readInstanceHeader(head);
    expect(cut.ok ? 'ok' : cut.reason).toBe('truncated');
    const headOnly = readInstanceHeader(head, { headOnly: true });
    expect(headOnly.ok && headOnly.header.pixelData).toEqual(pixels);
    // Encapsulated pixels have no length.
    const jpeg = readInstanceHeader(
      readFileSync(path.join(DATA_DIR, 'formats/pydicom-data/JPEG-LL.dcm')),
    );
    expect(jpeg.ok && jpeg.header.pixelData?.length).toBeUndefined();
  });

  it.each(images.map(([file, modality]) => [file ?? '', modality ?? '']))(
    'reads %s (%s)',
    (file, modality) => {
      const read = readInstanceHeader(readFileSync(path.join(DATA_DIR, file)));
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      expect(read.header.attribute('Modality')).toBe(modality);
      for (const uid of [
        read.header.sopInstanceUid,
        read.header.studyInstanceUid,
        read.header.seriesInstanceUid,
        read.header.sopClassUid,
      ]) {
        expect(uid).toMatch(/^[0-9]+(\.[0-9]+)+$/);
      }
      expect(read.header.attribute('Rows')).toBe(manifest.find(([f]) => f === file)?.[2]);
    },
  );

  it('never throws on any file of ../shared/data nor on any truncation of one', () => {
    for (const [file] of manifest) {
      const bytes = readFileSync(path.join(DATA_DIR, file ?? ''));
      expect(() => readInstanceHeader(bytes)).not.toThrow();
    }
    const ct = readFileSync(path.join(DATA_DIR, images[0]?.[0] ?? ''));
    for (let length = 0; length < 2000; length += 1) {
      const read = readInstanceHeader(ct.subarray(0, length));
      expect(read.ok).toBe(false);
    }
    const cut = readInstanceHeader(ct.subarray(0, ct.length - 1));
    expect(cut).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('refuses what is not DICOM', () => {
    expect(readInstanceHeader(Buffer.from('%PDF-1.7 ...'))).toMatchObject({
      ok: false,
      reason: 'not-dicom',
    });
  });
});

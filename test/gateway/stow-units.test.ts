/**
 * Unit tests of the STOW-RS building blocks: media type parsing, the streaming multipart reader
 * (any chunking, limits), the Store Instances Response and its HTTP status.
 */
import fc from 'fast-check';
import { PassThrough } from 'node:stream';

import { parseMediaType } from '../../src/gateway/stow/media-type';
import { MultipartError, readMultipart } from '../../src/gateway/stow/read-multipart';
import type { MultipartPart } from '../../src/gateway/stow/read-multipart';
import { storeInstancesResponse } from '../../src/gateway/stow/store-instances-response';
import { multipartBody } from './harness';

describe('parseMediaType', () => {
  it.each([
    ['multipart/related; type="application/dicom"; boundary=abc', 'application/dicom', 'abc'],
    ['Multipart/Related;type=application/dicom;boundary="a b;c"', 'application/dicom', 'a b;c'],
    ['multipart/related; boundary=x; TYPE="application/dicom"', 'application/dicom', 'x'],
    ['multipart/related; type="app\\"q"; boundary=z', 'app"q', 'z'],
  ])('%s', (header, type, boundary) => {
    const parsed = parseMediaType(header);
    expect(parsed?.essence).toBe('multipart/related');
    expect(parsed?.parameters.get('type')).toBe(type);
    expect(parsed?.parameters.get('boundary')).toBe(boundary);
  });

  it.each([
    undefined,
    '',
    'multipart',
    'a/b/c',
    'multipart/related; boundary="unterminated',
    'x/y; =v',
  ])('refuses %p', (header) => {
    expect(parseMediaType(header)).toBeUndefined();
  });
});

async function collect(
  body: Buffer,
  boundary: string,
  chunkSizes: readonly number[],
  maxPartBytes = 1 << 20,
): Promise<MultipartPart[]> {
  const stream = new PassThrough();
  setImmediate(() => {
    let at = 0;
    let i = 0;
    while (at < body.length) {
      const size = Math.max(1, chunkSizes[i % chunkSizes.length] ?? 1);
      stream.write(body.subarray(at, at + size));
      at += size;
      i += 1;
    }
    stream.end();
  });
  const parts: MultipartPart[] = [];
  for await (const part of readMultipart(stream, boundary, {
    maxPartBytes,
    maxRequestBytes: 1 << 24,
  })) {
    parts.push(part);
  }
  return parts;
}

describe('readMultipart', () => {
  it('gives the same parts whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        async (parts, chunks) => {
          const { body } = multipartBody(parts, 'fc-boundary');
          const read = await collect(body, 'fc-boundary', chunks);
          expect(read.map((p) => Buffer.from(p.bytes ?? []))).toEqual(
            parts.map((p) => Buffer.from(p)),
          );
          expect(read.map((p) => p.contentType)).toEqual(parts.map(() => 'application/dicom'));
        },
      ),
      { numRuns: 60, seed: 4 },
    );
  });

  it('finds only whole delimiters: parts holding delimiter prefixes, preamble, epilogue, padding, no headers', async () => {
    const boundary = 'q-7';
    const prefix = Buffer.from(`\r\n--${boundary}`);
    const byte = fc.oneof(
      fc.constantFrom(0x0d, 0x0a, 0x2d, 0x71),
      fc.integer({ min: 0, max: 255 }),
    );
    const piece = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.integer({ min: 1, max: prefix.length - 1 }).map((n) => prefix.subarray(0, n)),
      fc.array(byte, { maxLength: 12 }).map((b) => Buffer.from(b)),
    );
    const partBytes = fc.array(piece, { maxLength: 6 }).map((pieces) => Buffer.concat(pieces));
    await fc.assert(
      fc.asyncProperty(
        fc.array(partBytes, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 23 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (parts, chunks, headerless) => {
          const body = Buffer.concat([
            Buffer.from('preamble --q-\r\n'),
            ...parts.flatMap((p, i) => [
              Buffer.from(`${i === 0 ? '\r\n' : ''}--${boundary}  \r\n`),
              Buffer.from(
                headerless && i === 0 ? '\r\n' : 'content-type: Application/DICOM; x=1\r\n\r\n',
              ),
              p,
              Buffer.from('\r\n'),
            ]),
            Buffer.from(`--${boundary}--\r\nepilogue --${boundary}\r\n`),
          ]);
          const read = await collect(body, boundary, chunks);
          expect(read.map((p) => Buffer.from(p.bytes ?? []))).toEqual(parts);
          expect(read.map((p) => p.contentType)).toEqual(
            parts.map((_p, i) => (headerless && i === 0 ? undefined : 'application/dicom')),
          );
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it('drops a part over the limit but keeps its neighbours', async () => {
    const { body } = multipartBody(
      [Buffer.alloc(10, 1), Buffer.alloc(5000, 2), Buffer.alloc(20, 3)],
      'lim',
    );
    const parts = await collect(body, 'lim', [333], 1000);
    expect(parts.map((p) => [p.index, p.bytes?.length, p.size])).toEqual([
      [0, 10, 10],
      [1, undefined, 5000],
      [2, 20, 20],
    ]);
  });

  it.each([
    ['no part at all', Buffer.from('garbage without boundary'), 'b'],
    ['another boundary', multipartBody([Buffer.from('x')], 'one').body, 'two'],
    [
      'a body cut inside a part',
      multipartBody([Buffer.from('hello world')], 'b').body.subarray(0, 30),
      'b',
    ],
    ['an empty body', Buffer.alloc(0), 'b'],
  ])('throws STOW_MALFORMED_MULTIPART on %s', async (_name, body, boundary) => {
    const error = await collect(body, boundary, [7]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultipartError);
    expect((error as MultipartError).code).toBe('STOW_MALFORMED_MULTIPART');
    expect((error as MultipartError).httpStatus).toBe(400);
  });

  it('stops with STOW_REQUEST_TOO_LARGE past the request limit', async () => {
    const stream = new PassThrough();
    const { body } = multipartBody([Buffer.alloc(4000)], 'big');
    setImmediate(() => stream.end(body));
    const read = async (): Promise<void> => {
      for await (const _part of readMultipart(stream, 'big', {
        maxPartBytes: 1 << 20,
        maxRequestBytes: 1000,
      })) {
        // consume
      }
    };
    await expect(read()).rejects.toMatchObject({ code: 'STOW_REQUEST_TOO_LARGE', httpStatus: 413 });
  });
});

describe('storeInstancesResponse', () => {
  const ok = { sopClassUid: '1.2', sopInstanceUid: '1.2.3', retrieveUrl: 'http://g/dicom-web/x' };
  const failed = { sopClassUid: '', sopInstanceUid: '', failureReason: 0xc000 };

  it.each([
    ['all stored', [ok], [], false, 200],
    ['some failed', [ok], [failed], false, 202],
    ['a warning', [{ ...ok, warningReason: 0xb000 }], [], false, 202],
    ['a request-level warning', [ok], [], true, 202],
    ['none stored', [], [failed], false, 409],
  ] as const)('%s -> %d', (_name, referenced, failures, warning, status) => {
    expect(storeInstancesResponse('http://g/s', referenced, failures, warning).status).toBe(status);
  });

  it('writes PS3.18 DICOM JSON with tags, VRs and failure reasons', () => {
    const { body } = storeInstancesResponse(
      'http://g/dicom-web/studies/1',
      [{ ...ok, warningReason: 0xb000, originalAttributes: [{ '00080018': { vr: 'UI' } }] }],
      [failed],
      false,
    );
    expect(body).toEqual({
      '00081190': { vr: 'UR', Value: ['http://g/dicom-web/studies/1'] },
      '00081198': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI' },
            '00081155': { vr: 'UI' },
            '00081197': { vr: 'US', Value: [0xc000] },
          },
        ],
      },
      '00081199': {
        vr: 'SQ',
        Value: [
          {
            '00081150': { vr: 'UI', Value: ['1.2'] },
            '00081155': { vr: 'UI', Value: ['1.2.3'] },
            '00081190': { vr: 'UR', Value: ['http://g/dicom-web/x'] },
            '00081196': { vr: 'US', Value: [0xb000] },
            '04000561': { vr: 'SQ', Value: [{ '00080018': { vr: 'UI' } }] },
          },
        ],
      },
    });
  });
});

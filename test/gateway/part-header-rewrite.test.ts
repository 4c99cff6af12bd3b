/**
 * The part-header rewriter of binary multipart answers (part-header-rewrite.ts): URLs replaced in
 * part headers only, bodies byte for byte whatever they hold and wherever the chunks split, the
 * preamble and epilogue left alone, anything that is not the multipart it claims passed unchanged.
 */
import { Readable } from 'node:stream';

import {
  multipartBoundary,
  rewritePartHeaders,
} from '../../src/gateway/dicomweb/part-header-rewrite';

const FROM = 'http://127.0.0.1:8042/dicom-web';
const TO = 'https://pacs.example.org/dicom-web';
const BOUNDARY = 'b7999136-7271-4eec-8434-cb2b6feb8da9';

/** A body whose bytes hold the old URL, line breaks, dashes and a near-delimiter. */
function frameBytes(seed: number): Buffer {
  return Buffer.concat([
    Buffer.from(`${FROM}/frames/${seed}\r\n--${BOUNDARY.slice(0, 20)}\r\n\r\n--`, 'latin1'),
    Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + seed * 17) % 256)),
  ]);
}

function multipart(url: string, bodies: readonly Buffer[], preamble = '', epilogue = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble, 'latin1')];
  bodies.forEach((body, i) => {
    chunks.push(
      Buffer.from(
        `${i === 0 && preamble === '' ? '' : '\r\n'}--${BOUNDARY}\r\n` +
          `Content-Location: ${url}/studies/1/series/2/instances/3/frames/${i + 1}\r\n` +
          'Content-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\n' +
          `Content-Length: ${body.length}\r\nMIME-Version: 1.0\r\n\r\n`,
        'latin1',
      ),
      body,
    );
  });
  chunks.push(Buffer.from(`\r\n--${BOUNDARY}--\r\n${epilogue}`, 'latin1'));
  return Buffer.concat(chunks);
}

async function rewrite(chunks: readonly Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const stream = Readable.from(chunks).pipe(rewritePartHeaders(BOUNDARY, FROM, TO));
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('rewritePartHeaders', () => {
  const bodies = [frameBytes(1), frameBytes(2), frameBytes(3)];
  const sent = multipart(FROM, bodies);
  const expected = multipart(TO, bodies);

  it('rewrites every part header and leaves every body as it is, in one chunk', async () => {
    expect(sent.includes(FROM)).toBe(true);
    const out = await rewrite([sent]);
    expect(out.equals(expected)).toBe(true);
    // The bodies still hold the old URL: they were never searched.
    expect(out.toString('latin1').split(FROM)).toHaveLength(bodies.length + 1);
  });

  it('gives the same bytes wherever the chunks split', async () => {
    for (let at = 0; at <= sent.length; at += 1) {
      const out = await rewrite([sent.subarray(0, at), sent.subarray(at)]);
      if (!out.equals(expected)) throw new Error(`split at ${at} changed the output`);
    }
    const bytewise = await rewrite(Array.from(sent, (b) => Buffer.from([b])));
    expect(bytewise.equals(expected)).toBe(true);
  });

  it('leaves the preamble and the epilogue alone', async () => {
    const withBoth = multipart(FROM, bodies, `preamble ${FROM}`, `epilogue ${FROM}\r\n`);
    const out = await rewrite([withBoth]);
    expect(out.equals(multipart(TO, bodies, `preamble ${FROM}`, `epilogue ${FROM}\r\n`))).toBe(
      true,
    );
  });

  it('passes a body that is not that multipart through unchanged', async () => {
    const other = Buffer.from(`not multipart at all ${FROM}`, 'latin1');
    expect((await rewrite([other])).equals(other)).toBe(true);
    // A header block that never ends: everything from there on as it came.
    const endless = Buffer.concat([
      Buffer.from(`--${BOUNDARY}\r\nContent-Location: ${FROM}\r\n`, 'latin1'),
      Buffer.alloc(40_000, 0x41),
    ]);
    expect((await rewrite([endless])).equals(endless)).toBe(true);
    expect((await rewrite([])).length).toBe(0);
  });
});

describe('multipartBoundary', () => {
  it('reads the boundary of multipart types, quoted or not', () => {
    expect(
      multipartBoundary(
        `multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary=${BOUNDARY}`,
      ),
    ).toBe(BOUNDARY);
    expect(multipartBoundary('Multipart/Related; boundary="a b"; type=x')).toBe('a b');
  });

  it('has none for other types or a multipart without one', () => {
    expect(multipartBoundary('application/dicom')).toBeUndefined();
    expect(multipartBoundary('image/png; boundary=x')).toBeUndefined();
    expect(multipartBoundary('multipart/related; type="application/dicom"')).toBeUndefined();
  });
});

/**
 * Hostile and broken STOW-RS requests against the real gateway and Orthanc: each gets a specific
 * status and reason, the process keeps serving, and a 100 MB part does not grow memory by 100 MB.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { generateHs256Secret, mintToken } from '../../src/gateway/auth/credentials';
import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { DATA_DIR, multipartBody, PASSTHROUGH_RULES, startHarness } from './harness';
import type { Harness } from './harness';
import { jsonValue } from './dicomweb-client';
import type { DicomJson } from './dicomweb-client';

const ct = [1, 2, 3].map((i) => readFileSync(path.join(DATA_DIR, `ct/lung-pet-ct-dx/1-0${i}.dcm`)));
const MiB = 1024 * 1024;

interface Reply {
  status: number;
  json: DicomJson & { error?: { code: string; message: string } };
  headers: Headers;
}

function failureReasons(json: DicomJson): number[] {
  return ((json['00081198']?.Value ?? []) as DicomJson[]).map((item) =>
    Number(jsonValue(item, '00081197')),
  );
}

function referencedCount(json: DicomJson): number {
  return (json['00081199']?.Value ?? []).length;
}

describe('STOW-RS under hostile input', () => {
  let h: Harness;

  const post = async (
    body: NonNullable<RequestInit['body']>,
    contentType: string,
    options: { path?: string; token?: string | null; extra?: RequestInit } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (options.token !== null)
      headers.Authorization = `Bearer ${options.token ?? h.tokens.modality}`;
    const response = await fetch(`${h.gateway.url}${options.path ?? '/studies'}`, {
      method: 'POST',
      body,
      headers,
      ...options.extra,
    });
    const text = await response.text();
    return {
      status: response.status,
      json: (text === '' ? {} : JSON.parse(text)) as Reply['json'],
      headers: response.headers,
    };
  };

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      config: (base) => ({
        ...base,
        stow: { maxPartBytes: 8 * MiB, maxRequestBytes: 160 * MiB, concurrency: 4 },
      }),
    });
  });
  afterAll(async () => {
    await h.stop();
  });
  afterEach(async () => {
    const health = await fetch(`http://127.0.0.1:${h.gateway.port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('refuses a missing token with 401 and a forged one with 401', async () => {
    const { body, contentType } = multipartBody(ct.slice(0, 1));
    const missing = await post(body, contentType, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.json.error?.code).toBe('AUTH_MISSING');
    const forged = await mintToken({
      secret: generateHs256Secret(),
      subject: 'mallory',
      roles: ['modality', 'admin'],
    });
    const forgedReply = await post(body, contentType, { token: forged });
    expect(forgedReply.status).toBe(401);
    const garbage = await post(body, contentType, { token: 'not.a.token' });
    expect(garbage.status).toBe(401);
  });

  it('refuses a token without the modality role with 403', async () => {
    const { body, contentType } = multipartBody(ct.slice(0, 1));
    const reply = await post(body, contentType, { token: h.tokens.viewer });
    expect(reply.status).toBe(403);
    expect(reply.json.error?.code).toBe('AUTH_FORBIDDEN');
  });

  it.each([
    ['application/dicom', 'a bare DICOM body'],
    ['multipart/related; type="application/dicom+json"; boundary=x', 'metadata STOW'],
    ['multipart/form-data; boundary=x', 'a form upload'],
    ['text/plain', 'text'],
  ])('answers 415 to Content-Type %s (%s)', async (contentType) => {
    const reply = await post(Buffer.from('--x\r\n\r\nabc\r\n--x--\r\n'), contentType);
    expect(reply.status).toBe(415);
    expect(reply.json.error?.code).toBe('STOW_UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 400 to a multipart/related without boundary', async () => {
    const reply = await post(Buffer.from('abc'), 'multipart/related; type="application/dicom"');
    expect(reply.status).toBe(400);
    expect(reply.json.error?.code).toBe('STOW_MALFORMED_MULTIPART');
  });

  it('answers 400 to a malformed body and to a body with another boundary', async () => {
    const garbage = await post(
      Buffer.from('this is not multipart at all'),
      'multipart/related; type="application/dicom"; boundary=abc',
    );
    expect(garbage.status).toBe(400);
    expect(garbage.json.error?.code).toBe('STOW_MALFORMED_MULTIPART');
    const { body } = multipartBody(ct.slice(0, 2), 'the-real-boundary');
    const wrong = await post(body, 'multipart/related; type=application/dicom; boundary=another');
    expect(wrong.status).toBe(400);
    expect(wrong.json.error?.message).toContain('boundary');
  });

  it('stores the DICOM parts and fails a non-DICOM part with 0xC000 (202)', async () => {
    const { body, contentType } = multipartBody([
      ct[0] ?? Buffer.alloc(0),
      Buffer.from('%PDF-1.4 definitely not DICOM'),
      ct[1] ?? Buffer.alloc(0),
    ]);
    const reply = await post(body, contentType);
    expect(reply.status).toBe(202);
    expect(referencedCount(reply.json)).toBe(2);
    expect(failureReasons(reply.json)).toEqual([0xc000]);
  });

  it('fails DICOM parts truncated in the header or in the pixels with 0xC000 (409)', async () => {
    const file = ct[2] ?? Buffer.alloc(0);
    const { body, contentType } = multipartBody([
      file.subarray(0, 300),
      file.subarray(0, file.length - 1000),
    ]);
    const reply = await post(body, contentType);
    expect(reply.status).toBe(409);
    expect(failureReasons(reply.json)).toEqual([0xc000, 0xc000]);
  });

  it('answers a body cut off inside a part: 400 when nothing was complete, else 202 with a warning', async () => {
    const { body, contentType } = multipartBody(ct.slice(0, 2));
    const cutInFirst = await post(body.subarray(0, 1000), contentType);
    expect(cutInFirst.status).toBe(400);
    expect(cutInFirst.json.error?.code).toBe('STOW_MALFORMED_MULTIPART');
    const cutInSecond = await post(body.subarray(0, (ct[0]?.length ?? 0) + 3000), contentType);
    expect(cutInSecond.status).toBe(202);
    expect(referencedCount(cutInSecond.json)).toBe(1);
    expect(cutInSecond.headers.get('warning')).toContain('STOW_MALFORMED_MULTIPART');
  });

  it('fails instances of another study than the URL names with 0x0110 (409)', async () => {
    const { body, contentType } = multipartBody(ct.slice(0, 2));
    const reply = await post(body, contentType, { path: '/studies/1.2.3.4.5.6.7' });
    expect(reply.status).toBe(409);
    expect(failureReasons(reply.json)).toEqual([0x0110, 0x0110]);
    const badUid = await post(body, contentType, { path: '/studies/not-a-uid' });
    expect(badUid.status).toBe(400);
  });

  it('answers 413 to a declared body over the request limit, without reading it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        `${h.gateway.url}/studies`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'multipart/related; type="application/dicom"; boundary=x',
            'Content-Length': String(200 * MiB),
            ...h.auth('modality'),
          },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
          request.destroy();
        },
      );
      request.on('error', reject);
      request.write(Buffer.alloc(1024));
    });
    expect(status).toBe(413);
  });

  it('skips a 100 MB part over the part limit with 0xA700, stores the rest, memory bounded', async () => {
    const boundary = 'big-part-boundary';
    const before = process.memoryUsage().rss;
    let peak = before;
    const chunk = Buffer.alloc(MiB, 0x41);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`));
        controller.enqueue(ct[0] ?? Buffer.alloc(0));
        controller.enqueue(
          Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        );
      },
      pull(controller) {
        peak = Math.max(peak, process.memoryUsage().rss);
        if (sent < 100) {
          controller.enqueue(chunk);
          sent += 1;
          return;
        }
        controller.enqueue(
          Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        );
        controller.enqueue(ct[1] ?? Buffer.alloc(0));
        controller.enqueue(Buffer.from(`\r\n--${boundary}--\r\n`));
        controller.close();
      },
    });
    const reply = await post(
      stream,
      `multipart/related; type="application/dicom"; boundary=${boundary}`,
      {
        extra: { duplex: 'half' } as RequestInit,
      },
    );
    expect(reply.status).toBe(202);
    expect(referencedCount(reply.json)).toBe(2);
    expect(failureReasons(reply.json)).toEqual([0xa700]);
    // The whole part never sat in memory (client and gateway share this process).
    expect(peak - before).toBeLessThan(64 * MiB);
  });
});

/**
 * Nothing lost when Orthanc goes away in the middle of a study: the STOW-RS answer names which
 * instances were stored and which failed (0xA700), and the gateway keeps serving.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import { DATA_DIR, PASSTHROUGH_RULES, startHarness } from './harness';
import type { Harness } from './harness';
import { jsonValue } from './dicomweb-client';
import type { DicomJson } from './dicomweb-client';

const SERIES_DIR = path.join(DATA_DIR, 'ct/cmb-crc-chest-abdomen');
const files = readdirSync(SERIES_DIR)
  .filter((f) => f.endsWith('.dcm'))
  .sort()
  .map((f) => readFileSync(path.join(SERIES_DIR, f)));
const uids = files.map((bytes) => {
  const read = readInstanceHeader(bytes);
  if (!read.ok) throw new Error(read.message);
  return read.header.sopInstanceUid;
});
const STORED_BEFORE_STOP = 5;

describe('Orthanc stopped in the middle of a study', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      config: (base) => ({
        ...base,
        stow: { maxPartBytes: 8 << 20, maxRequestBytes: 64 << 20, concurrency: 1 },
      }),
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  const countInstances = async (): Promise<number> => {
    const response = await fetch(`${h.orthanc.url}/statistics`, {
      headers: { Authorization: h.orthanc.authorization },
    });
    return ((await response.json()) as { CountInstances: number }).CountInstances;
  };

  it('lists every instance as stored or failed with 0xA700, and keeps serving', async () => {
    const boundary = 'mid-study-boundary';
    const part = (bytes: Buffer): Buffer =>
      Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        bytes,
        Buffer.from('\r\n'),
      ]);
    let next = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (next === STORED_BEFORE_STOP + 1) {
          // A part is complete when the next delimiter arrives: once part 6 is on its way, let the
          // gateway store the first 5, then take Orthanc away.
          for (let i = 0; i < 1200 && (await countInstances()) < STORED_BEFORE_STOP; i += 1) {
            await new Promise((r) => setTimeout(r, 25));
          }
          await h.orthanc.stop();
        }
        const file = files[next];
        if (file === undefined) {
          controller.enqueue(Buffer.from(`--${boundary}--\r\n`));
          controller.close();
          return;
        }
        controller.enqueue(part(file));
        next += 1;
      },
    });
    const response = await fetch(`${h.gateway.url}/studies`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: {
        'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        ...h.auth('modality'),
      },
    } as RequestInit);
    expect(response.status).toBe(202);
    const json = (await response.json()) as DicomJson;
    const stored = ((json['00081199']?.Value ?? []) as DicomJson[]).map((i) =>
      jsonValue(i, '00081155'),
    );
    const failed = ((json['00081198']?.Value ?? []) as DicomJson[]).map((i) => ({
      uid: jsonValue(i, '00081155'),
      reason: Number(jsonValue(i, '00081197')),
    }));
    expect(stored).toEqual(uids.slice(0, STORED_BEFORE_STOP));
    expect(failed.map((f) => f.uid)).toEqual(uids.slice(STORED_BEFORE_STOP));
    expect(new Set(failed.map((f) => f.reason))).toEqual(new Set([0xa700]));

    const health = await fetch(`http://127.0.0.1:${h.gateway.port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${h.gateway.port}/readyz`, {
      headers: h.auth('viewer'),
    });
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { upstreams: Record<string, string> }).upstreams).toEqual({
      orthanc: 'unreachable',
    });
    const qido = await fetch(`${h.gateway.url}/studies`, { headers: h.auth('viewer') });
    expect(qido.status).toBe(503);
    expect(((await qido.json()) as { error: { code: string } }).error.code).toBe(
      'UPSTREAM_UNAVAILABLE',
    );
    const metrics = await fetch(`http://127.0.0.1:${h.gateway.port}/metrics`, {
      headers: h.auth('admin'),
    });
    const text = await metrics.text();
    expect(text).toContain(
      `stego_gateway_instances_total{outcome="failed"} ${files.length - STORED_BEFORE_STOP}`,
    );
    expect(text).toContain(
      `stego_gateway_instances_total{outcome="passthrough"} ${STORED_BEFORE_STOP}`,
    );
  });
});

/**
 * The product, end to end against a real Orthanc: a whole CT series sent with dicomweb-client is
 * stored with the identity embedded (fidelity profile, worker pool), retrieved through WADO-RS,
 * found through QIDO-RS, and every instance's identity is extracted and verified through the
 * identity endpoints. Uses the ONNX model when it loads here, else the threshold segmenter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import type { InstanceIdentity } from '../../src/gateway/identity/identity-router';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import { createSegmenter } from '../../src/segmentation/create-segmenter';
import type { SegmenterName } from '../../src/segmentation/segmenter';
import { DATA_DIR, startHarness } from './harness';
import type { Harness } from './harness';
import { jsonValue, viewerClient } from './dicomweb-client';

const SERIES_DIR = path.join(DATA_DIR, 'ct/lung-pet-ct-dx');
const files = readdirSync(SERIES_DIR)
  .filter((f) => f.endsWith('.dcm'))
  .sort()
  .map((f) => readFileSync(path.join(SERIES_DIR, f)));
const headers = files.map((bytes) => {
  const read = readInstanceHeader(bytes);
  if (!read.ok) throw new Error(read.message);
  return read.header;
});
const study = headers[0]?.studyInstanceUid ?? '';
const series = headers[0]?.seriesInstanceUid ?? '';

async function availableSegmenter(): Promise<SegmenterName> {
  try {
    const segmenter = await createSegmenter('onnx-maskrcnn');
    await segmenter.close();
    return 'onnx-maskrcnn';
  } catch {
    return 'threshold';
  }
}

describe('identity embedded on STOW-RS, verified through the identity endpoints', () => {
  let h: Harness;

  beforeAll(async () => {
    const segmenter = await availableSegmenter();
    h = await startHarness({
      engine: createIdentityEngine,
      config: (base) => ({
        ...base,
        embedding: { ...base.embedding, defaultSegmenter: segmenter, workers: 2 },
      }),
    });
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('embeds into every instance of a whole series sent with dicomweb-client', async () => {
    const client = viewerClient(h.gateway.url, h.tokens.modality);
    await client.storeInstances({
      datasets: files.map(
        (b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer,
      ),
    });
    const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
    expect(rows).toHaveLength(files.length);
    expect(rows.map((r) => r.kind === 'store' && r.outcome)).toEqual(files.map(() => 'embedded'));
    expect(new Set(rows.map((r) => r.keyId))).toEqual(new Set(['test-key-1']));
    const metrics = await (
      await fetch(`http://127.0.0.1:${h.gateway.port}/metrics`, { headers: h.auth('admin') })
    ).text();
    expect(metrics).toContain(`stego_gateway_instances_total{outcome="embedded"} ${files.length}`);
    expect(metrics).toContain(
      `stego_gateway_embed_seconds_count{profile="fidelity"} ${files.length}`,
    );
  }, 120_000);

  it('finds the series with QIDO-RS and retrieves changed pixels, same size, with WADO-RS', async () => {
    const client = viewerClient(h.gateway.url, h.tokens.viewer);
    const instances = await client.searchForInstances({
      studyInstanceUID: study,
      seriesInstanceUID: series,
    });
    expect(instances.map((i) => jsonValue(i, '00080018')).sort()).toEqual(
      headers.map((x) => x.sopInstanceUid).sort(),
    );
    const first = headers[0];
    if (first === undefined) throw new Error('no instance');
    const retrieved = Buffer.from(
      await client.retrieveInstance({
        studyInstanceUID: study,
        seriesInstanceUID: series,
        sopInstanceUID: first.sopInstanceUid,
      }),
    );
    expect(retrieved.length).toBe(files[0]?.length);
    expect(retrieved.equals(files[0] ?? Buffer.alloc(0))).toBe(false);
  });

  it('extracts and verifies the identity of every instance, one by one', async () => {
    for (const header of headers) {
      const response = await fetch(
        `${h.gateway.url}/studies/${study}/series/${series}/instances/${header.sopInstanceUid}/identity`,
        { headers: h.auth('auditor') },
      );
      expect(response.status).toBe(200);
      const identity = (await response.json()) as InstanceIdentity;
      expect(identity).toMatchObject({
        sopInstanceUid: header.sopInstanceUid,
        payloadPresent: true,
        result: 'match',
        profile: 'fidelity',
        keyId: 'test-key-1',
      });
      expect(identity.fields?.every((f) => f.agrees)).toBe(true);
      expect(identity.identity?.PatientID).toBe(header.attribute('PatientID'));
      expect(typeof identity.correctedSymbols).toBe('number');
    }
  }, 120_000);

  it('answers series- and study-level requests with one entry per instance', async () => {
    for (const route of [
      `/studies/${study}/series/${series}/identity`,
      `/studies/${study}/identity`,
    ]) {
      const response = await fetch(`${h.gateway.url}${route}`, { headers: h.auth('auditor') });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        summary: Record<string, number>;
        instances: InstanceIdentity[];
      };
      expect(body.summary).toEqual({ match: files.length });
      expect(body.instances.map((i) => i.sopInstanceUid).sort()).toEqual(
        headers.map((x) => x.sopInstanceUid).sort(),
      );
    }
  }, 120_000);

  it('extracts from a file the auditor sends, and finds nothing in the original', async () => {
    const client = viewerClient(h.gateway.url, h.tokens.viewer);
    const first = headers[0];
    if (first === undefined) throw new Error('no instance');
    const stored = await client.retrieveInstance({
      studyInstanceUID: study,
      seriesInstanceUID: series,
      sopInstanceUID: first.sopInstanceUid,
    });
    const post = (body: Buffer) =>
      fetch(`${h.gateway.url}/identity/extract`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/dicom', ...h.auth('auditor') },
      });
    const found = (await (await post(Buffer.from(stored))).json()) as InstanceIdentity;
    expect(found.result).toBe('match');
    const original = (await (await post(files[0] ?? Buffer.alloc(0))).json()) as InstanceIdentity;
    expect(original.payloadPresent).toBe(false);
    expect(original.result).toBe('no-payload');
    const notDicom = (await (await post(Buffer.from('hello'))).json()) as InstanceIdentity;
    expect(notDicom.result).toBe('failed');
  });

  it('keeps identity routes to auditors and audits each extraction', async () => {
    const first = headers[0];
    if (first === undefined) throw new Error('no instance');
    const route = `${h.gateway.url}/studies/${study}/series/${series}/instances/${first.sopInstanceUid}/identity`;
    expect((await fetch(route, { headers: h.auth('viewer') })).status).toBe(403);
    expect((await fetch(route)).status).toBe(401);
    const unknown = await fetch(
      `${h.gateway.url}/studies/${study}/series/${series}/instances/1.2.3/identity`,
      { headers: h.auth('auditor') },
    );
    expect(unknown.status).toBe(404);
    const rows = await h.audit.query({ kind: 'extraction', limit: 1000, offset: 0 });
    expect(rows.length).toBeGreaterThanOrEqual(files.length * 3 + 3);
    expect(rows.every((r) => r.caller === 'test-auditor')).toBe(true);
    const log = h.logLines.join('\n');
    const patientName = first.attribute('PatientName');
    expect(patientName).toBeDefined();
    expect(log).not.toContain(patientName);
  });
});

/**
 * A whole CT series through the gateway with a passthrough rule, against a real Orthanc: sent with
 * dicomweb-client, found with QIDO-RS, retrieved with WADO-RS byte for byte, every URL in the answers
 * pointing at the gateway (frames' Content-Location too); chunked STOW bodies; nothing about the patient in the logs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import {
  DATA_DIR,
  multipartBody,
  multipartParts,
  PASSTHROUGH_RULES,
  startHarness,
} from './harness';
import type { Harness } from './harness';
import { jsonValue, viewerClient } from './dicomweb-client';
import type { DicomJson } from './dicomweb-client';

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

function arrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

describe('DICOMweb through the gateway, passthrough rule, real Orthanc', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('stores the whole series sent with dicomweb-client', async () => {
    expect(files.length).toBe(30);
    const client = viewerClient(h.gateway.url, h.tokens.modality);
    await client.storeInstances({ datasets: files.map(arrayBuffer) });
    const stats = await fetch(`${h.orthanc.url}/statistics`, {
      headers: { Authorization: h.orthanc.authorization },
    });
    expect(((await stats.json()) as { CountInstances: number }).CountInstances).toBe(30);
  });

  it('answers STOW-RS with a Store Instances Response whose RetrieveURLs point at the gateway', async () => {
    const { body, contentType } = multipartBody(files.slice(0, 3));
    const response = await fetch(`${h.gateway.url}/studies/${study}`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType, ...h.auth('modality') },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    const json = (await response.json()) as DicomJson;
    expect(jsonValue(json, '00081190')).toBe(`${h.gateway.url}/studies/${study}`);
    const referenced = (json['00081199']?.Value ?? []) as DicomJson[];
    expect(referenced.map((r) => jsonValue(r, '00081155'))).toEqual(
      headers.slice(0, 3).map((x) => x.sopInstanceUid),
    );
    for (const [i, item] of referenced.entries()) {
      expect(jsonValue(item, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.2');
      expect(jsonValue(item, '00081190')).toBe(
        `${h.gateway.url}/studies/${study}/series/${series}/instances/${headers[i]?.sopInstanceUid}`,
      );
    }
    expect(json['00081198']).toBeUndefined();
  });

  it('finds the series and its instances with QIDO-RS, with gateway URLs', async () => {
    const client = viewerClient(h.gateway.url, h.tokens.viewer);
    const found = await client.searchForSeries({ studyInstanceUID: study });
    expect(found.map((s) => jsonValue(s, '0020000E'))).toEqual([series]);
    expect(jsonValue(found[0], '00081190')).toBe(
      `${h.gateway.url}/studies/${study}/series/${series}`,
    );
    const instances = await client.searchForInstances({
      studyInstanceUID: study,
      seriesInstanceUID: series,
    });
    expect(instances.map((i) => jsonValue(i, '00080018')).sort()).toEqual(
      headers.map((x) => x.sopInstanceUid).sort(),
    );
    const text = JSON.stringify(instances);
    expect(text).not.toContain(`:${h.orthanc.httpPort}`);
  });

  it('retrieves every instance with WADO-RS byte for byte', async () => {
    const client = viewerClient(h.gateway.url, h.tokens.viewer);
    for (const [i, header] of headers.entries()) {
      const retrieved = await client.retrieveInstance({
        studyInstanceUID: study,
        seriesInstanceUID: series,
        sopInstanceUID: header.sopInstanceUid,
      });
      expect(Buffer.from(retrieved).equals(files[i] ?? Buffer.alloc(0))).toBe(true);
    }
  });

  it('rewrites BulkDataURIs in metadata and serves frames', async () => {
    const client = viewerClient(h.gateway.url, h.tokens.viewer);
    const metadata = await client.retrieveSeriesMetadata({
      studyInstanceUID: study,
      seriesInstanceUID: series,
    });
    expect(metadata).toHaveLength(30);
    const text = JSON.stringify(metadata);
    expect(text).toContain(
      `"BulkDataURI":"${h.gateway.url}/studies/${study}/series/${series}/instances/`,
    );
    expect(text).not.toContain(`:${h.orthanc.httpPort}`);
    const first = headers[0];
    if (first === undefined) throw new Error('no instance');
    const frames = await client.retrieveInstanceFrames({
      studyInstanceUID: study,
      seriesInstanceUID: series,
      sopInstanceUID: first.sopInstanceUid,
      frameNumbers: [1],
    });
    expect(frames).toHaveLength(1);
    const rendered = await fetch(
      `${h.gateway.url}/studies/${study}/series/${series}/instances/${first.sopInstanceUid}/rendered`,
      { headers: { Accept: 'image/png', ...h.auth('viewer') } },
    );
    expect(rendered.status).toBe(200);
    expect(rendered.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await rendered.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it("names each frame with the gateway's URL (Content-Location), frames byte for byte", async () => {
    const first = headers[0];
    if (first === undefined) throw new Error('no instance');
    const framePath = `/studies/${study}/series/${series}/instances/${first.sopInstanceUid}/frames/1`;
    const accept = 'multipart/related; type="application/octet-stream"';
    const viaGateway = await fetch(`${h.gateway.url}${framePath}`, {
      headers: { Accept: accept, ...h.auth('viewer') },
    });
    const direct = await fetch(`${h.orthanc.url}/dicom-web${framePath}`, {
      headers: { Accept: accept, Authorization: h.orthanc.authorization },
    });
    expect(viaGateway.status).toBe(200);
    const body = Buffer.from(await viaGateway.arrayBuffer());
    const [part] = multipartParts(
      new Uint8Array(body),
      viaGateway.headers.get('content-type') ?? '',
    );
    const [plugin] = multipartParts(
      new Uint8Array(await direct.arrayBuffer()),
      direct.headers.get('content-type') ?? '',
    );
    expect(part?.length).toBe(512 * 512 * 2);
    expect(Buffer.from(part as Uint8Array).equals(Buffer.from(plugin as Uint8Array))).toBe(true);
    const partHeaders = body.toString('latin1', 0, body.indexOf('\r\n\r\n'));
    expect(partHeaders).toContain(`Content-Location: ${h.gateway.url}${framePath}\r\n`);
    expect(body.includes(`:${h.orthanc.httpPort}/`)).toBe(false);
  });

  it("never names Orthanc's address in any answer, headers or body, at any level", async () => {
    const first = headers[0];
    if (first === undefined) throw new Error('no instance');
    const instance = `/studies/${study}/series/${series}/instances/${first.sopInstanceUid}`;
    const dicom = 'multipart/related; type="application/dicom"';
    const octets = 'multipart/related; type="application/octet-stream"';
    const json = 'application/dicom+json';
    const asked: [string, string][] = [
      [`/studies?StudyInstanceUID=${study}`, json],
      [`/studies/${study}/series`, json],
      [`/studies/${study}/series/${series}/instances`, json],
      [`/series?SeriesInstanceUID=${series}`, json],
      [`/instances?SOPInstanceUID=${first.sopInstanceUid}`, json],
      [`/studies/${study}/metadata`, json],
      [`/studies/${study}/series/${series}/metadata`, json],
      [`${instance}/metadata`, json],
      [`${instance}/metadata`, 'multipart/related; type="application/dicom+xml"'],
      [`/studies/${study}`, dicom],
      [`/studies/${study}/series/${series}`, dicom],
      [instance, dicom],
      [instance, `${dicom}; transfer-syntax=*`],
      [`${instance}/frames/1`, octets],
      [`${instance}/rendered`, 'image/jpeg'],
    ];
    const metadata = (await (
      await fetch(`${h.gateway.url}${instance}/metadata`, {
        headers: { Accept: json, ...h.auth('viewer') },
      })
    ).json()) as DicomJson[];
    const bulk = JSON.stringify(metadata).match(/"BulkDataURI":"([^"]+)"/)?.[1];
    expect(bulk).toMatch(new RegExp(`^${h.gateway.url}/`));
    const orthancAddress = `127.0.0.1:${h.orthanc.httpPort}`;
    for (const [url, accept] of [
      ...asked.map(([p, a]): [string, string] => [`${h.gateway.url}${p}`, a]),
      [bulk ?? '', octets] as [string, string],
    ]) {
      const answer = await fetch(url, { headers: { Accept: accept, ...h.auth('viewer') } });
      const text = Buffer.from(await answer.arrayBuffer()).toString('latin1');
      const heads = [...answer.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
      if (answer.status !== 200) throw new Error(`${url} (${accept}) answered ${answer.status}`);
      if (text.includes(orthancAddress) || heads.includes(orthancAddress)) {
        throw new Error(`${url} (${accept}) names Orthanc's address`);
      }
    }
  });

  it('stores everything from a chunked request body', async () => {
    await fetch(`${h.orthanc.url}/studies`, {
      headers: { Authorization: h.orthanc.authorization },
    });
    const { body, contentType } = multipartBody(files.slice(5, 15), 'chunky-boundary');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < body.length; at += 65_521)
          controller.enqueue(body.subarray(at, at + 65_521));
        controller.close();
      },
    });
    const response = await fetch(`${h.gateway.url}/studies`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: {
        'Content-Type': contentType.replace('"application/dicom"', 'application/dicom'),
        ...h.auth('modality'),
      },
    } as RequestInit);
    expect(response.status).toBe(200);
    const json = (await response.json()) as DicomJson;
    expect(json['00081199']?.Value).toHaveLength(10);
  });

  it('writes the configured public base URL and root into every answer', async () => {
    const proxied = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      orthanc: h.orthanc,
      config: (base) => ({
        ...base,
        http: { ...base.http, root: '/pacs/dicomweb', publicBaseUrl: 'https://pacs.example.org/' },
      }),
    });
    try {
      const public_ = 'https://pacs.example.org/pacs/dicomweb';
      expect(proxied.gateway.url).toMatch(/\/pacs\/dicomweb$/);
      const client = viewerClient(proxied.gateway.url, proxied.tokens.viewer);
      const found = await client.searchForSeries({ studyInstanceUID: study });
      expect(jsonValue(found[0], '00081190')).toBe(`${public_}/studies/${study}/series/${series}`);
      const metadata = await client.retrieveSeriesMetadata({
        studyInstanceUID: study,
        seriesInstanceUID: series,
      });
      expect(JSON.stringify(metadata)).toContain(`"BulkDataURI":"${public_}/studies/${study}/`);
      const { body, contentType } = multipartBody(files.slice(0, 1));
      const stored = await fetch(`${proxied.gateway.url}/studies`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': contentType, ...proxied.auth('modality') },
      });
      expect(jsonValue((await stored.json()) as DicomJson, '00081190')).toBe(
        `${public_}/studies/${study}`,
      );
      const old = await fetch(`http://127.0.0.1:${proxied.gateway.port}/dicom-web/studies`, {
        headers: proxied.auth('viewer'),
      });
      expect(old.status).toBe(404);
    } finally {
      await proxied.stop();
    }
  });

  it('records one audit row per stored instance, and logs nothing about the patient', async () => {
    const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
    expect(rows.length).toBeGreaterThanOrEqual(30 + 3 + 10);
    expect(rows.every((r) => r.kind === 'store' && r.outcome === 'passthrough')).toBe(true);
    const patientValues = ['PatientName', 'PatientID', 'PatientBirthDate']
      .map((k) => headers[0]?.attribute(k))
      .filter((v): v is string => v !== undefined && v.length > 3);
    expect(patientValues.length).toBeGreaterThan(0);
    const log = h.logLines.join('\n');
    expect(log).toContain('"path":"/studies"');
    for (const value of patientValues) expect(log).not.toContain(value);
  });
});

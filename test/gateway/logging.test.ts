import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

import * as dcmjs from 'dcmjs';

import { CENSOR, createLogger, scrub } from '../../src/gateway/logging';

const DATA = path.resolve(__dirname, '../../../shared/data');

/** A sink that keeps every line pino writes. */
function collectingSink(): {
  stream: Writable;
  text: () => string;
  lines: () => Record<string, unknown>[];
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = (): string => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

interface RealInstance {
  /** DICOM JSON-like dictionary keyed by tag (what dcmjs reads). */
  readonly dict: Record<string, { vr: string; Value?: unknown[] }>;
  /** Naturalized dataset keyed by keyword. */
  readonly dataset: Record<string, unknown>;
  readonly patientName: string;
  readonly patientId: string;
  readonly birthDate: string | undefined;
}

function readInstance(relative: string): RealInstance {
  const bytes = readFileSync(path.join(DATA, relative));
  const message = dcmjs.data.DicomMessage.readFile(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const dict = message.dict as RealInstance['dict'];
  delete dict['7FE00010'];
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict) as Record<string, unknown>;
  const name =
    (dict['00100010']?.Value?.[0] as { Alphabetic?: string } | undefined)?.Alphabetic ?? '';
  return {
    dict,
    dataset,
    patientName: name,
    patientId: String(dict['00100020']?.Value?.[0] ?? ''),
    birthDate:
      dict['00100030']?.Value?.[0] === undefined ? undefined : String(dict['00100030'].Value[0]),
  };
}

describe('createLogger redaction', () => {
  const files = [
    'ct/cmb-crc-chest-abdomen/1-001.dcm',
    'ct/lung-pet-ct-dx/1-01.dcm',
    'mr/pdmr-mouse-abdomen/1-01.dcm',
  ];

  it.each(files)('never lets the patient attributes of %s reach the sink', (file) => {
    const instance = readInstance(file);
    expect(instance.patientName.length).toBeGreaterThan(3);
    expect(instance.patientId.length).toBeGreaterThan(3);
    const sink = collectingSink();
    const logger = createLogger({ destination: sink.stream, level: 'debug' });
    const sopUid = String(instance.dataset['SOPInstanceUID']);

    // The shapes a gateway might log: header fields, whole datasets by keyword and by tag (DICOM
    // JSON), nested in request context, in arrays, in child bindings, an identity and a request.
    logger.info(
      { sopUid, PatientName: instance.patientName, PatientID: instance.patientId },
      'stored',
    );
    logger.debug({ dataset: instance.dataset }, 'parsed header');
    logger.debug({ instance: { header: instance.dict } }, 'dicom json');
    logger.warn({ stow: { parts: [{ meta: { attributes: instance.dataset } }] } }, 'warning');
    logger.info(
      { extraction: { identity: { PatientName: instance.patientName }, result: 'match' } },
      'extracted',
    );
    logger
      .child({ PatientID: instance.patientId, sopUid })
      .info({ patient: { PatientBirthDate: instance.birthDate } }, 'child');
    logger.info(
      {
        req: {
          method: 'POST',
          url: '/dicom-web/studies',
          headers: { Authorization: 'Bearer eyJ.secret.sig', 'x-api-key': 'sgw_a_b' },
        },
      },
      'request',
    );
    logger.info(
      { tokens: { admin: 'eyJ.admin.sig' }, apiKey: 'sgw_x_y', payload: instance.patientName },
      'start',
    );

    const text = sink.text();
    expect(text).not.toContain(instance.patientName);
    for (const part of instance.patientName.split('^').filter((p) => p.length > 3))
      expect(text).not.toContain(part);
    expect(text).not.toContain(instance.patientId);
    if (instance.birthDate !== undefined && instance.birthDate.length > 0)
      expect(text).not.toContain(instance.birthDate);
    expect(text).not.toContain('eyJ.secret.sig');
    expect(text).not.toContain('eyJ.admin.sig');
    expect(text).not.toContain('sgw_');
    // What is not sensitive stays: the log is still useful.
    const lines = sink.lines();
    expect(lines).toHaveLength(8);
    expect(lines[0]).toMatchObject({
      sopUid,
      PatientName: CENSOR,
      PatientID: CENSOR,
      msg: 'stored',
      service: 'stego-gateway',
    });
    expect((lines[1]?.['dataset'] as Record<string, unknown>)['Modality']).toBe(
      instance.dataset['Modality'],
    );
    expect(lines[5]).toMatchObject({
      PatientID: CENSOR,
      sopUid,
      // `patient` itself matches the Patient* pattern: the whole object goes.
      patient: CENSOR,
    });
    expect(lines[6]).toMatchObject({
      req: { method: 'POST', headers: { Authorization: CENSOR, 'x-api-key': CENSOR } },
    });
  });

  it('censors patient attributes by keyword pattern and DICOM JSON tag', () => {
    const sink = collectingSink();
    const logger = createLogger({ destination: sink.stream });
    logger.info({
      a: {
        PatientComments: 'c1',
        OtherPatientIDsSequence: [{ PatientID: 'c2' }],
        ClinicalTrialSubjectID: 'c3',
      },
      b: { PerformingPhysicianName: 'c4', OperatorsName: 'c5', '00101040': 'c6', '00120040': 'c7' },
      c: { Modality: 'CT', StationName: 'CT-1', SOPInstanceUID: '1.2.3' },
    });
    const [line] = sink.lines();
    expect(line).toMatchObject({
      a: {
        PatientComments: CENSOR,
        OtherPatientIDsSequence: CENSOR,
        ClinicalTrialSubjectID: CENSOR,
      },
      b: {
        PerformingPhysicianName: CENSOR,
        OperatorsName: CENSOR,
        '00101040': CENSOR,
        '00120040': CENSOR,
      },
      c: { Modality: 'CT', StationName: 'CT-1', SOPInstanceUID: '1.2.3' },
    });
  });

  it('does not modify the objects it logs', () => {
    const sink = collectingSink();
    const logger = createLogger({ destination: sink.stream });
    const header = {
      PatientName: 'Doe^Jane',
      nested: { PatientID: 'ID-1' },
      list: [{ PatientBirthDate: '19700101' }],
    };
    const before = JSON.stringify(header);
    logger.info({ header }, 'x');
    expect(JSON.stringify(header)).toBe(before);
    expect(sink.text()).not.toContain('Doe^Jane');
  });

  it('writes ISO times and honours the level', () => {
    const sink = collectingSink();
    const logger = createLogger({ destination: sink.stream, level: 'warn' });
    logger.info('hidden');
    logger.warn({ code: 'EMBED_NO_CAPACITY' }, 'shown');
    const lines = sink.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, code: 'EMBED_NO_CAPACITY', msg: 'shown' });
    expect(String(lines[0]?.['time'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe('scrub', () => {
  it('returns clean objects unchanged (no copy) and copies only along changed paths', () => {
    const clean = { a: 1, b: { c: [1, 2, { d: 'x' }] } };
    expect(scrub(clean)).toBe(clean);
    const dirty = { keep: { same: 1 }, change: { PatientName: 'x' } };
    const out = scrub(dirty) as typeof dirty;
    expect(out).toEqual({ keep: { same: 1 }, change: { PatientName: CENSOR } });
    expect(out.keep).toBe(dirty.keep);
  });

  it.each([
    [{ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'x' }] } }, { '00100010': CENSOR }],
    [{ headers: { AUTHORIZATION: 'Bearer x' } }, { headers: { AUTHORIZATION: CENSOR } }],
    [[{ PatientID: 'x' }], [{ PatientID: CENSOR }]],
    [new Map([['PatientName', 'x']]), { PatientName: CENSOR }],
  ])('censors %j', (input, expected) => {
    expect(scrub(input)).toEqual(expected);
  });

  it('cuts off structures deeper than it walks instead of printing them', () => {
    let deep: Record<string, unknown> = { PatientName: 'x' };
    for (let i = 0; i < 20; i += 1) deep = { inner: deep };
    expect(JSON.stringify(scrub(deep))).not.toContain('"x"');
    expect(JSON.stringify(scrub(deep))).toContain('[too deep]');
  });
});

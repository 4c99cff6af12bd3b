import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { createSegmenter } from '../segmentation/create-segmenter';
import { SEGMENTER_NAMES, type Segmenter, type SegmenterName } from '../segmentation/segmenter';
import { parseKeyRing, type KeyRing } from '../stego/key-ring';
import { isProfileName, type ProfileName } from '../stego/profiles';
import { StegoGatewayError } from '../stego/errors';
import { cliError } from './cli-error';

export const DEFAULT_SEGMENTER: SegmenterName = 'onnx-maskrcnn';

/** JSON on stdout, one document per command. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function readInputFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw cliError('INPUT_UNREADABLE', `cannot read [${file}] (${code ?? 'error'})`, cause);
  }
}

/** Writes through a temporary file and a rename, so that a reader never sees half a file. */
export async function writeFileAtomic(file: string, data: Uint8Array, mode = 0o644): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await fs.writeFile(tmp, data, { mode, flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (cause) {
    await fs.rm(tmp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    throw cliError('OUTPUT_UNWRITABLE', `cannot write [${file}] (${code ?? 'error'})`, cause);
  }
}

export async function loadKeyRing(file: string): Promise<KeyRing> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw cliError('KEY_FILE_UNREADABLE', `cannot read key file [${file}] (${code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw cliError('KEY_FILE_INVALID', `key file [${file}] is not JSON`);
  }
  try {
    return parseKeyRing(json);
  } catch (cause) {
    const reason = cause instanceof StegoGatewayError ? cause.message : 'invalid';
    throw cliError('KEY_FILE_INVALID', `key file [${file}]: ${reason}`);
  }
}

/** The key ring when given; required by the sealed profiles (fidelity, robust). */
export async function keyRingFor(
  file: string | undefined,
  profile: ProfileName | undefined,
): Promise<KeyRing | undefined> {
  if (file !== undefined) return loadKeyRing(file);
  if (profile === 'paper') return undefined;
  throw cliError(
    'KEY_REQUIRED',
    `--key KEYFILE is required${profile === undefined ? '' : ` by profile [${profile}]`}`,
  );
}

export function parseProfile(value: string): ProfileName {
  if (!isProfileName(value)) {
    throw new InvalidArgumentError('expected paper, fidelity or robust');
  }
  return value;
}

export function parseSegmenterName(value: string): SegmenterName {
  if (!(SEGMENTER_NAMES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SEGMENTER_NAMES.join(', ')}`);
  }
  return value as SegmenterName;
}

export function parseNonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected a non-negative integer');
  }
  return n;
}

/** `--fields PatientID,PatientName,...`: DICOM keywords (PS3.6), at least one. */
export function parseFieldList(value: string): string[] {
  const fields = value
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (fields.length === 0 || fields.some((f) => !/^[A-Za-z][A-Za-z0-9]*$/.test(f))) {
    throw new InvalidArgumentError('expected comma-separated DICOM keywords');
  }
  return fields;
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('expected a positive number');
  }
  return n;
}

/** Runs `work` with a segmenter and always closes it. */
export async function withSegmenter<T>(
  name: SegmenterName | undefined,
  work: (segmenter: Segmenter) => Promise<T>,
): Promise<T> {
  const segmenter = await createSegmenter(name ?? DEFAULT_SEGMENTER);
  try {
    return await work(segmenter);
  } finally {
    await segmenter.close();
  }
}

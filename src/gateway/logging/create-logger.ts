import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

/**
 * DICOM keywords and tags (PS3.6) that identify the patient. Their values never reach a log sink,
 * at whatever depth (up to REDACT_DEPTH) they appear in a logged object.
 */
export const PATIENT_KEYWORDS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'PatientAddress',
  'OtherPatientIDs',
  'OtherPatientNames',
  'IssuerOfPatientID',
  'PatientTelephoneNumbers',
  'PatientMotherBirthName',
  'AccessionNumber',
  // DICOM JSON (PS3.18 F.2) keys by tag: PatientName, PatientID, PatientBirthDate, Sex, Address,
  // OtherPatientIDs (retired), OtherPatientNames, IssuerOfPatientID.
  '00100010',
  '00100020',
  '00100030',
  '00100040',
  '00101040',
  '00101000',
  '00101001',
  '00100021',
] as const;

/** Secrets and payloads: tokens, keys, the hidden identity, raw bodies. */
export const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'tokens',
  'accessToken',
  'apiKey',
  'secret',
  'password',
  'key',
  'payload',
  'identity',
  'body',
] as const;

const REDACT_DEPTH = 4;

function keyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
}

/** pino `redact.paths` for every sensitive key at depth 0..REDACT_DEPTH-1. */
export function redactPaths(): string[] {
  const keys: readonly string[] = [...PATIENT_KEYWORDS, ...SECRET_KEYS];
  const paths: string[] = [];
  for (let depth = 0; depth < REDACT_DEPTH; depth += 1) {
    const prefix = '*.'.repeat(depth);
    for (const key of keys) {
      const tail = keyPath(key);
      paths.push(
        depth === 0
          ? tail.startsWith('.')
            ? tail.slice(1)
            : tail
          : `${prefix.slice(0, -1)}${tail}`,
      );
    }
  }
  return paths;
}

export interface CreateLoggerOptions {
  /** pino level; default 'info'. */
  readonly level?: string;
  /** Where lines go; default stdout. Tests pass a collecting stream. */
  readonly destination?: DestinationStream;
  /** Bound to every line, e.g. { service: 'stego-gateway' }. */
  readonly base?: Record<string, string>;
}

/** The one logger factory: JSON lines, sensitive keys replaced by "[redacted]". */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? { service: 'stego-gateway' },
    redact: { paths: redactPaths(), censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === undefined
    ? pino(loggerOptions)
    : pino(loggerOptions, options.destination);
}

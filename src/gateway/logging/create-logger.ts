import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

import { CENSOR, scrub } from './scrub';

/**
 * Explicit pino `redact` paths (cheap, no wildcards) for the usual shapes; `scrub` then catches
 * the same keys at any depth. Two layers, so a new log call shape cannot leak what one misses.
 */
export const REDACT_PATHS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'token',
  'tokens',
  'payload',
  'identity',
  'body',
] as const;

function scrubRecord(record: Record<string, unknown>): Record<string, unknown> {
  // scrub returns the object itself or a plain copy of it: still a record.
  return scrub(record) as Record<string, unknown>;
}

export interface CreateLoggerOptions {
  /** pino level; default 'info'. */
  readonly level?: string;
  /** Where lines go; default stdout. Tests pass a collecting stream. */
  readonly destination?: DestinationStream;
  /** Bound to every line; default { service: 'stego-gateway' }. */
  readonly base?: Record<string, string>;
}

/**
 * The one logger factory: JSON lines with ISO times. Patient attributes (by keyword or DICOM JSON
 * tag), credentials, identities and payloads become "[redacted]" at any depth, in log objects and
 * in child-logger bindings. Not scanned: messages (the string argument) and Error objects (pino's
 * err serializer prints message, stack, code and cause); both carry codes and UIDs, never a patient
 * attribute (STYLE.md).
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.base ?? { service: 'stego-gateway' },
    redact: { paths: [...REDACT_PATHS], censor: CENSOR },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      log: scrubRecord,
      bindings: scrubRecord,
    },
  };
  return options.destination === undefined
    ? pino(loggerOptions)
    : pino(loggerOptions, options.destination);
}

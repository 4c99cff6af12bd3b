export { createLogger, REDACT_PATHS } from './create-logger';
export type { CreateLoggerOptions } from './create-logger';
export {
  scrub,
  isSensitiveKey,
  CENSOR,
  PATIENT_KEYS,
  PATIENT_KEY_PATTERN,
  SECRET_KEYS,
} from './scrub';
export type { Logger } from 'pino';

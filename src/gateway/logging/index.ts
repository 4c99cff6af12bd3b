export { createLogger, redactPaths, PATIENT_KEYWORDS, SECRET_KEYS } from './create-logger';
export type { CreateLoggerOptions } from './create-logger';
export type { Logger } from 'pino';

import { StegoGatewayError } from '../stego/errors';

/**
 * Exit codes of the command line (issue 2): 0 ok, 2 no payload found, 3 wrong key, 4 unsupported
 * input (anything about the input file or payload that we refuse), 5 a batch in which some file
 * failed (each file's outcome is its own NDJSON line), 1 anything else.
 */
export const EXIT = {
  OK: 0,
  OTHER: 1,
  NO_PAYLOAD: 2,
  WRONG_KEY: 3,
  UNSUPPORTED_INPUT: 4,
  SOME_FAILED: 5,
} as const;

const EXIT_BY_CODE: Readonly<Record<string, number>> = {
  NO_PAYLOAD: EXIT.NO_PAYLOAD,
  PAYLOAD_CORRUPTED: EXIT.NO_PAYLOAD,
  WRONG_KEY: EXIT.WRONG_KEY,
  NOT_DICOM: EXIT.UNSUPPORTED_INPUT,
  TRUNCATED_FILE: EXIT.UNSUPPORTED_INPUT,
  MALFORMED_DICOM: EXIT.UNSUPPORTED_INPUT,
  NOT_AN_IMAGE: EXIT.UNSUPPORTED_INPUT,
  UNSUPPORTED_TRANSFER_SYNTAX: EXIT.UNSUPPORTED_INPUT,
  UNSUPPORTED_PHOTOMETRIC: EXIT.UNSUPPORTED_INPUT,
  UNSUPPORTED_BITS_ALLOCATED: EXIT.UNSUPPORTED_INPUT,
  UNSUPPORTED_PIXEL_FORMAT: EXIT.UNSUPPORTED_INPUT,
  NO_BACKGROUND: EXIT.UNSUPPORTED_INPUT,
  PAYLOAD_TOO_LARGE: EXIT.UNSUPPORTED_INPUT,
  EMBEDDING_UNSTABLE: EXIT.UNSUPPORTED_INPUT,
  NOT_IDENTITY: EXIT.UNSUPPORTED_INPUT,
  SOME_FILES_FAILED: EXIT.SOME_FAILED,
};

export function exitCodeFor(code: string): number {
  return EXIT_BY_CODE[code] ?? EXIT.OTHER;
}

/** An error of the command line itself (usage, files), in the project's one error class. */
export function cliError(code: string, message: string, cause?: unknown): StegoGatewayError {
  return new StegoGatewayError(code, message, {
    httpStatus: 400,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `{"error": {"code", "message"}}` for any thrown value; never a stack trace. */
export function errorJson(error: unknown): { error: { code: string; message: string } } {
  if (error instanceof StegoGatewayError) {
    return { error: { code: error.code, message: error.message } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error: { code: 'INTERNAL_ERROR', message } };
}

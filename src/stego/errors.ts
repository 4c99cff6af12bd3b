/**
 * The one error base class of the project (STYLE.md "Types and errors"). Every thrown error carries a
 * stable `code` (documented in docs/errors.md) and an HTTP status for the gateway's error middleware.
 * It lives in the innermost layer so that every layer can use it without breaking the dependency
 * direction. Messages name offending values in brackets and never a patient attribute.
 */
export class StegoGatewayError extends Error {
  readonly code: string;
  readonly httpStatus: number;

  constructor(
    code: string,
    message: string,
    options: { httpStatus?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StegoGatewayError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
  }
}

/**
 * Streams the parts of a `multipart/related` body (RFC 2387, PS3.18 8.6.1.2) with dicer, one whole
 * part at a time, under limits: a part over `maxPartBytes` is drained and reported as too large
 * (never buffered); a body over `maxRequestBytes` stops the stream. At most `queueParts` finished
 * parts wait for the consumer; beyond that the request socket is paused (backpressure), so memory
 * stays bounded by the limits whatever the client sends.
 */
import Dicer from 'dicer';
import type { Readable } from 'node:stream';

import { StegoGatewayError } from '../../stego/errors';

export interface MultipartPart {
  /** 0-based position in the body. */
  readonly index: number;
  /** The part's Content-Type, lower-cased essence, or undefined. */
  readonly contentType: string | undefined;
  /** The part's bytes, or undefined when it was over the limit. */
  readonly bytes: Buffer | undefined;
  /** Bytes the part had (counted up to the point it was dropped). */
  readonly size: number;
}

export interface MultipartLimits {
  readonly maxPartBytes: number;
  readonly maxRequestBytes: number;
  readonly queueParts?: number;
}

export type MultipartFailure = 'malformed' | 'too-large' | 'aborted';

export class MultipartError extends StegoGatewayError {
  constructor(
    readonly failure: MultipartFailure,
    message: string,
  ) {
    super(
      failure === 'too-large' ? 'STOW_REQUEST_TOO_LARGE' : 'STOW_MALFORMED_MULTIPART',
      message,
      { httpStatus: failure === 'too-large' ? 413 : 400 },
    );
  }
}

type Event =
  | { readonly kind: 'part'; readonly part: MultipartPart }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly error: MultipartError };

export async function* readMultipart(
  body: Readable,
  boundary: string,
  limits: MultipartLimits,
): AsyncGenerator<MultipartPart, void, undefined> {
  const queueParts = limits.queueParts ?? 2;
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let partCount = 0;
  let received = 0;
  let dicerBlocked = false;

  const push = (event: Event): void => {
    if (finished) return;
    if (event.kind !== 'part') finished = true;
    events.push(event);
    wake?.();
  };
  const pendingParts = (): number => events.filter((e) => e.kind === 'part').length;
  const maybeResume = (): void => {
    if (!finished && !dicerBlocked && pendingParts() < queueParts && body.isPaused()) body.resume();
  };

  const dicer = new Dicer({ boundary, maxHeaderPairs: 100 });
  dicer.on('part', (stream) => {
    const index = partCount;
    partCount += 1;
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let dropped = false;
    stream.on('header', (header) => {
      const value = (header as Record<string, string[] | undefined>)['content-type']?.[0];
      contentType = value?.split(';')[0]?.trim().toLowerCase();
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (dropped) return;
      if (size > limits.maxPartBytes) {
        dropped = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', () => {
      push({
        kind: 'error',
        error: new MultipartError('malformed', `part ${index} ends before its closing boundary`),
      });
    });
    stream.on('end', () => {
      push({
        kind: 'part',
        part: { index, contentType, bytes: dropped ? undefined : Buffer.concat(chunks), size },
      });
      if (pendingParts() >= queueParts) body.pause();
    });
  });
  dicer.on('error', (error: Error) => {
    if (partCount === 0) {
      push({
        kind: 'error',
        error: new MultipartError('malformed', `no part delimited by the boundary [${boundary}]`),
      });
      return;
    }
    push({
      kind: 'error',
      error: new MultipartError('malformed', `malformed multipart body [${error.message}]`),
    });
  });
  dicer.on('finish', () => {
    if (partCount === 0) {
      push({
        kind: 'error',
        error: new MultipartError('malformed', `no part delimited by the boundary [${boundary}]`),
      });
    } else {
      push({ kind: 'end' });
    }
  });
  dicer.on('drain', () => {
    dicerBlocked = false;
    maybeResume();
  });

  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received > limits.maxRequestBytes) {
      body.pause();
      cleanup();
      push({
        kind: 'error',
        error: new MultipartError(
          'too-large',
          `request body over the limit of [${limits.maxRequestBytes}] bytes`,
        ),
      });
      return;
    }
    if (!dicer.write(chunk)) {
      dicerBlocked = true;
      body.pause();
    }
  };
  const onEnd = (): void => {
    dicer.end();
  };
  const onAborted = (): void => {
    push({ kind: 'error', error: new MultipartError('aborted', 'the client closed the request') });
  };
  const cleanup = (): void => {
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onAborted);
    body.off('aborted', onAborted);
  };
  body.on('data', onData);
  body.on('end', onEnd);
  body.on('error', onAborted);
  body.on('aborted', onAborted);

  try {
    for (;;) {
      const event = events.shift();
      if (event === undefined) {
        maybeResume();
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (event.kind === 'part') {
        yield event.part;
        continue;
      }
      if (event.kind === 'end') return;
      throw event.error;
    }
  } finally {
    cleanup();
    finished = true;
    dicer.removeAllListeners('part');
  }
}

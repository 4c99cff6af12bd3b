/**
 * Rewrites a URL in the part headers of a binary multipart body and passes every part's body through
 * unchanged. Orthanc's DICOMweb plugin names each frame it sends with a `Content-Location` header
 * holding its own URL (PS3.18 8.6.1.2.2 allows one per part); the gateway replaces Orthanc's base
 * with its public one there, so a viewer never meets Orthanc's address, while the frames' bytes
 * (pixel data, which may hold any byte string) are never searched or touched.
 *
 * Parts are found by their delimiter (`CRLF--boundary`, RFC 2046 5.1.1), which the sender chose not
 * to occur in any body; each header block ends at the first empty line. A header block over
 * MAX_HEADER_BYTES means this is not the multipart it claims to be: the rest passes unchanged.
 * Memory: one chunk plus the delimiter, or one header block.
 */
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/** Longest part header block rewritten; Orthanc's are about 300 bytes. */
const MAX_HEADER_BYTES = 16 * 1024;
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const DASH_DASH = Buffer.from('--', 'latin1');
const EMPTY = Buffer.alloc(0);

type State = 'start' | 'body' | 'after-delimiter' | 'headers' | 'as-is';

export function rewritePartHeaders(boundary: string, from: string, to: string): Transform {
  const opening = Buffer.from(`--${boundary}`, 'latin1');
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let state: State = 'start';
  let pending: Buffer = EMPTY;

  /** Moves what can be decided of `pending` to `out`; keeps the undecided rest in `pending`. */
  const advance = (out: Buffer[], ended: boolean): void => {
    for (;;) {
      switch (state) {
        case 'start': {
          // The first delimiter may open the body without a preceding line break.
          if (pending.length < opening.length && !ended) return;
          if (pending.subarray(0, opening.length).equals(opening)) {
            out.push(pending.subarray(0, opening.length));
            pending = pending.subarray(opening.length);
            state = 'after-delimiter';
          } else {
            state = 'body';
          }
          break;
        }
        case 'body': {
          const at = pending.indexOf(delimiter);
          if (at === -1) {
            // Hold back what could be the start of a delimiter split across chunks.
            const safe = ended
              ? pending.length
              : Math.max(0, pending.length - delimiter.length + 1);
            out.push(pending.subarray(0, safe));
            pending = Buffer.from(pending.subarray(safe));
            return;
          }
          out.push(pending.subarray(0, at + delimiter.length));
          pending = pending.subarray(at + delimiter.length);
          state = 'after-delimiter';
          break;
        }
        case 'after-delimiter': {
          if (pending.length < 2 && !ended) return;
          // The close delimiter: what follows is the epilogue.
          state = pending.subarray(0, 2).equals(DASH_DASH) ? 'as-is' : 'headers';
          break;
        }
        case 'headers': {
          const end = pending.indexOf(CRLF_CRLF);
          if (end === -1) {
            if (pending.length > MAX_HEADER_BYTES || ended) state = 'as-is';
            else return;
            break;
          }
          const block = pending.toString('latin1', 0, end + CRLF_CRLF.length);
          out.push(Buffer.from(block.split(from).join(to), 'latin1'));
          pending = pending.subarray(end + CRLF_CRLF.length);
          state = 'body';
          break;
        }
        case 'as-is':
          out.push(pending);
          pending = EMPTY;
          return;
      }
    }
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      advance(out, false);
      callback(null, out.length === 1 ? out[0] : Buffer.concat(out));
    },
    flush(callback: TransformCallback) {
      const out: Buffer[] = [];
      advance(out, true);
      callback(null, Buffer.concat(out));
    },
  });
}

/** The `boundary` parameter of a multipart Content-Type (RFC 2046 5.1.1), quoted or not. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^\s*multipart\//i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

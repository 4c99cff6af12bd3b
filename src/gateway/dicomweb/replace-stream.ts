/**
 * A Transform that replaces every occurrence of one byte string by another in a stream, whatever the
 * chunk boundaries: it holds back the last `needle.length - 1` bytes of each chunk until the next one
 * shows whether they start a match. Memory: one chunk plus the needle.
 */
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

export function replaceStream(needle: string, replacement: string): Transform {
  const from = Buffer.from(needle, 'utf8');
  const to = Buffer.from(replacement, 'utf8');
  let carry = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const out: Buffer[] = [];
      let start = 0;
      for (;;) {
        const at = data.indexOf(from, start);
        if (at === -1) break;
        out.push(data.subarray(start, at), to);
        start = at + from.length;
      }
      // Keep the tail that could be the beginning of a match split across chunks.
      const keep = Math.min(from.length - 1, data.length - start);
      const flushEnd = data.length - keep;
      out.push(data.subarray(start, flushEnd));
      carry = Buffer.from(data.subarray(flushEnd));
      callback(null, Buffer.concat(out));
    },
    flush(callback: TransformCallback) {
      callback(null, carry);
    },
  });
}

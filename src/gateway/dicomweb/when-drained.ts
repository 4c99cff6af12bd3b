/**
 * Waits until a response may take more bytes after write() answered false, or until it is gone
 * (a client that left never drains): the backpressure of the answers the gateway writes itself
 * from stored files (stored-frames.ts, stored-study.ts).
 */
import type { Writable } from 'node:stream';

export function whenDrained(res: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

import express from 'express';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import { dicomWebProxyRouter } from '../../src/gateway/dicomweb/dicomweb-proxy-router';
import { createMetrics } from '../../src/gateway/metrics';
import type {
  OpenStoredFile,
  OrthancClient,
  UpstreamResponse,
} from '../../src/gateway/orthanc/orthanc-client';
import { DATA_DIR } from './harness';

/**
 * The WADO-RS/QIDO-RS relay against a scripted upstream (unit test of the router alone): bodies
 * byte for byte, textual bodies rewritten, an upstream that breaks off, a client that goes away.
 */
type Script = (body: PassThrough) => void;

function startRelay(contentType: string, script: () => Script) {
  const bodies: PassThrough[] = [];
  const upstream = {
    dicomWebBaseUrls: ['http://orthanc:8042/dicom-web'],
    dicomWeb(): Promise<UpstreamResponse> {
      const body = new PassThrough();
      bodies.push(body);
      setImmediate(() => script()(body));
      return Promise.resolve({
        status: 200,
        headers: { 'content-type': contentType },
        body: body as unknown as UpstreamResponse['body'],
      });
    },
  } as unknown as OrthancClient;
  return serve(upstream, (url) => ({ url, bodies }));
}

/** The relay in front of `upstream`, on a free loopback port. */
function serve<T>(
  upstream: OrthancClient,
  describe: (url: string) => T,
): Promise<T & { close: () => Promise<void> }> {
  const app = express();
  app.use(
    dicomWebProxyRouter({
      upstream,
      baseUrl: () => 'https://gateway.example/dicom-web',
      metrics: createMetrics(),
    }),
  );
  const server = http.createServer(app);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        ...describe(`http://127.0.0.1:${port}`),
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

const DICOM_ACCEPT = { Accept: 'multipart/related; type="application/dicom"' };

/** GETs `url` and goes away after the first chunk of the answer. */
function leaveAfterFirstChunk(url: string, headers: Record<string, string> = {}): Promise<void> {
  return new Promise<void>((resolve) => {
    const request = http.get(url, { agent: false, headers }, (res) => {
      res.once('data', () => {
        request.destroy();
        resolve();
      });
    });
    request.on('error', () => undefined);
  });
}

async function destroyedSoon(stream: PassThrough | undefined): Promise<boolean> {
  for (let i = 0; i < 100 && stream?.destroyed !== true; i += 1) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return stream?.destroyed === true;
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: true }),
        );
        res.on('error', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: false }),
        );
      })
      .on('error', reject);
  });
}

const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 256));

describe('dicomWebProxyRouter relay', () => {
  it('passes a binary body byte for byte, with no rewriting even where it holds the URL', async () => {
    const withUrl = Buffer.concat([bytes, Buffer.from('http://orthanc:8042/dicom-web'), bytes]);
    const relay = await startRelay('multipart/related; type="application/dicom"', () => (b) => {
      b.write(withUrl.subarray(0, 70_000));
      b.end(withUrl.subarray(70_000));
    });
    try {
      const reply = await get(`${relay.url}/studies/1.2/series/3.4/instances/5.6`);
      expect(reply.status).toBe(200);
      expect(reply.body.equals(withUrl)).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('rewrites Orthanc base URLs in a textual body', async () => {
    const relay = await startRelay('application/dicom+json', () => (b) => {
      b.write('[{"00081190":{"vr":"UR","Value":["http://orthanc:80');
      b.end('42/dicom-web/studies/1.2"]}}]');
    });
    try {
      const reply = await get(`${relay.url}/studies`);
      expect(reply.body.toString()).toBe(
        '[{"00081190":{"vr":"UR","Value":["https://gateway.example/dicom-web/studies/1.2"]}}]',
      );
    } finally {
      await relay.close();
    }
  });

  it('cuts the answer when Orthanc breaks off, and keeps serving', async () => {
    let breakOff = true;
    const relay = await startRelay('application/dicom', () =>
      breakOff
        ? (b) => {
            b.write(bytes.subarray(0, 100_000));
            setImmediate(() => b.destroy(new Error('socket hang up')));
          }
        : (b) => b.end(bytes),
    );
    try {
      const cut = await get(`${relay.url}/studies/1.2`).catch(() => undefined);
      expect(cut?.complete ?? false).toBe(false);
      breakOff = false;
      const whole = await get(`${relay.url}/studies/1.2`);
      expect(whole.complete).toBe(true);
      expect(whole.body.equals(bytes)).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it("stops reading Orthanc's answer when the client goes away", async () => {
    const relay = await startRelay('application/dicom', () => (b) => {
      b.write(bytes); // and never ends
    });
    try {
      await leaveAfterFirstChunk(`${relay.url}/studies/1.2`);
      expect(await destroyedSoon(relay.bodies[0])).toBe(true);
    } finally {
      await relay.close();
    }
  });
});

/**
 * The stored-file path (instance-file-relay.ts) against a scripted upstream; `storedFile`: a file
 * standing for the instance's file in Orthanc's storage folder (openStoredFile opens it).
 */
function startStoredFileRelay(fileScript: () => Script, storedFile?: string) {
  const fileBodies: PassThrough[] = [];
  const handles: FileHandle[] = [];
  const calls = { dicomWeb: 0, forgotten: 0, fileStream: 0 };
  const partTen = readFileSync(path.join(DATA_DIR, 'ct/lung-pet-ct-dx/1-01.dcm'));
  const upstream = {
    dicomWebBaseUrls: ['http://orthanc:8042/dicom-web'],
    findInstance: () => Promise.resolve('0123abcd-0123abcd'),
    async openStoredFile(): Promise<OpenStoredFile | undefined> {
      if (storedFile === undefined) return undefined;
      const handle = await open(storedFile, 'r');
      handles.push(handle);
      return { handle, size: (await handle.stat()).size };
    },
    forgetInstance: () => {
      calls.forgotten += 1;
    },
    instanceFileStream(): Promise<UpstreamResponse> {
      calls.fileStream += 1;
      const body = new PassThrough();
      fileBodies.push(body);
      setImmediate(() => fileScript()(body));
      return Promise.resolve({
        status: 200,
        headers: { 'content-length': String(partTen.length) },
        body: body as unknown as UpstreamResponse['body'],
      });
    },
    dicomWeb(): Promise<UpstreamResponse> {
      calls.dicomWeb += 1;
      const body = new PassThrough();
      setImmediate(() => body.end('from the plugin'));
      return Promise.resolve({
        status: 200,
        headers: { 'content-type': 'multipart/related; type="application/dicom"' },
        body: body as unknown as UpstreamResponse['body'],
      });
    },
  } as unknown as OrthancClient;
  return serve(upstream, (url) => ({
    url: `${url}/studies/1.2/series/3.4/instances/5.6`,
    partTen,
    fileBodies,
    handles,
    calls,
  }));
}

/** Whether a file handle gets closed within a second (a closed FileHandle's fd is -1). */
async function closedSoon(handle: FileHandle | undefined): Promise<boolean> {
  for (let i = 0; i < 100 && handle?.fd !== -1; i += 1) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return handle?.fd === -1;
}

describe('dicomWebProxyRouter, one instance from the stored file', () => {
  it('sends the file in chunks as one part, and cuts the answer when Orthanc breaks off', async () => {
    let breakOff = false;
    const relay = await startStoredFileRelay(() => (b) => {
      // The meta group arrives in two pieces, the rest after it.
      b.write(relay.partTen.subarray(0, 150));
      b.write(relay.partTen.subarray(150, 100_000));
      if (breakOff) setImmediate(() => b.destroy(new Error('socket hang up')));
      else b.end(relay.partTen.subarray(100_000));
    });
    try {
      const whole = await get(relay.url, DICOM_ACCEPT);
      expect(whole.status).toBe(200);
      expect(whole.body.includes(relay.partTen)).toBe(true);
      breakOff = true;
      const cut = await get(relay.url, DICOM_ACCEPT).catch(() => undefined);
      expect(cut?.complete ?? false).toBe(false);
      expect(relay.calls.dicomWeb).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it("stops reading Orthanc's file when the client goes away", async () => {
    const relay = await startStoredFileRelay(() => (b) => {
      b.write(relay.partTen); // and never ends
    });
    try {
      await leaveAfterFirstChunk(relay.url, DICOM_ACCEPT);
      expect(await destroyedSoon(relay.fileBodies[0])).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('leaves a stored file that is not Part 10 to the plugin', async () => {
    const relay = await startStoredFileRelay(() => (b) => b.end(Buffer.alloc(2_000, 7)));
    try {
      const reply = await get(relay.url, DICOM_ACCEPT);
      expect(reply.body.toString()).toBe('from the plugin');
      expect(relay.calls.dicomWeb).toBe(1);
      expect(relay.fileBodies[0]?.destroyed).toBe(true);
    } finally {
      await relay.close();
    }
  });
});

describe("dicomWebProxyRouter, one instance from Orthanc's storage folder", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stego-relay-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const unused: () => Script = () => () => {
    throw new Error('Orthanc was asked for the file');
  };

  it('sends the file as one part, byte for byte, without asking Orthanc, and closes it', async () => {
    const stored = path.join(dir, 'ct.dcm');
    const partTen = readFileSync(path.join(DATA_DIR, 'ct/lung-pet-ct-dx/1-01.dcm'));
    await writeFile(stored, partTen);
    const relay = await startStoredFileRelay(unused, stored);
    try {
      const reply = await get(relay.url, DICOM_ACCEPT);
      expect(reply.status).toBe(200);
      const boundary = /^--([^\r]+)\r\n/.exec(reply.body.toString('latin1'))?.[1] ?? '';
      const at = reply.body.indexOf('\r\n\r\n') + 4;
      expect(reply.body.subarray(at, at + partTen.length).equals(partTen)).toBe(true);
      expect(reply.body.subarray(at + partTen.length).toString('latin1')).toBe(
        `\r\n--${boundary}--\r\n`,
      );
      expect(relay.calls).toEqual({ dicomWeb: 0, forgotten: 0, fileStream: 0 });
      expect(await closedSoon(relay.handles[0])).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('sends a file shorter than one read as one part', async () => {
    // A Part 10 file of a few hundred bytes: the whole file is the first read.
    const partTen = readFileSync(path.join(DATA_DIR, 'ct/lung-pet-ct-dx/1-01.dcm'));
    const small = partTen.subarray(0, 400);
    const stored = path.join(dir, 'small.dcm');
    await writeFile(stored, small);
    const relay = await startStoredFileRelay(unused, stored);
    try {
      const reply = await get(relay.url, DICOM_ACCEPT);
      expect(reply.status).toBe(200);
      expect(reply.body.includes(small)).toBe(true);
      expect(await closedSoon(relay.handles[0])).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('closes the file when the client goes away', async () => {
    const stored = path.join(dir, 'large.dcm');
    const partTen = readFileSync(path.join(DATA_DIR, 'ct/lung-pet-ct-dx/1-01.dcm'));
    await writeFile(stored, Buffer.concat([partTen, Buffer.alloc(64 * 1024 * 1024)]));
    const relay = await startStoredFileRelay(unused, stored);
    try {
      await leaveAfterFirstChunk(relay.url, DICOM_ACCEPT);
      expect(await closedSoon(relay.handles[0])).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('leaves a file that is not Part 10 to the plugin, and closes it', async () => {
    const stored = path.join(dir, 'zlib.bin');
    await writeFile(stored, Buffer.alloc(200_000, 7));
    const relay = await startStoredFileRelay(unused, stored);
    try {
      const reply = await get(relay.url, DICOM_ACCEPT);
      expect(reply.body.toString()).toBe('from the plugin');
      expect(relay.calls.dicomWeb).toBe(1);
      expect(await closedSoon(relay.handles[0])).toBe(true);
    } finally {
      await relay.close();
    }
  });
});

/**
 * `npm start` (= tsx src/cli/main.ts start): Orthanc and the gateway from nothing, one JSON line on
 * stdout with the URL and a token per role, keys and tokens kept in the data folder for the next
 * start, and SIGTERM stopping both processes cleanly.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { freePort } from '../../src/gateway/orthanc/orthanc-process';
import { DATA_DIR, multipartBody, multipartParts } from './harness';

const ROOT = path.resolve(__dirname, '../..');

interface Started {
  readonly child: ChildProcess;
  readonly line: { url: string; tokens: Record<string, string> };
  readonly exited: Promise<number | null>;
}

async function start(args: readonly string[]): Promise<Started> {
  const child = spawn(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    ['src/cli/main.ts', 'start', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', resolve);
    void exited.then((code) => reject(new Error(`start exited with ${code}: ${stderr}`)));
  });
  return { child, line: JSON.parse(first) as Started['line'], exited };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'stego-start-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts Orthanc and the gateway, prints one JSON line, stops both on SIGTERM', async () => {
    const [port, orthancHttp, orthancDicom] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const args = [
      '--port',
      String(port),
      '--orthanc-http-port',
      String(orthancHttp),
      '--orthanc-dicom-port',
      String(orthancDicom),
      '--data',
      dataDir,
    ];
    const first = await start(args);
    try {
      expect(first.line.url).toBe(`http://127.0.0.1:${port}/dicom-web`);
      expect(Object.keys(first.line.tokens).sort()).toEqual([
        'admin',
        'auditor',
        'modality',
        'viewer',
      ]);
      const qido = await fetch(`${first.line.url}/studies`, {
        headers: { Authorization: `Bearer ${first.line.tokens.viewer}` },
      });
      expect(qido.status).toBe(200);
      expect(await qido.json()).toEqual([]);
      const forbidden = await fetch(`${first.line.url}/studies`, {
        headers: { Authorization: `Bearer ${first.line.tokens.modality}` },
      });
      expect(forbidden.status).toBe(403);
      // Orthanc itself refuses anyone without the gateway's password.
      const orthanc = await fetch(`http://127.0.0.1:${orthancHttp}/system`);
      expect(orthanc.status).toBe(401);
      for (const file of ['keys.json', 'secrets.json', 'tokens.json']) {
        expect((await stat(path.join(dataDir, file))).mode & 0o077).toBe(0);
      }
      // An instance stored through the gateway is retrieved from Orthanc's storage folder.
      const sent = readFileSync(path.join(DATA_DIR, 'ct/lung-pet-ct-dx/1-01.dcm'));
      const { body, contentType } = multipartBody([sent]);
      const stow = await fetch(`${first.line.url}/studies`, {
        method: 'POST',
        body,
        headers: {
          Authorization: `Bearer ${first.line.tokens.modality}`,
          'Content-Type': contentType,
        },
      });
      expect([200, 202]).toContain(stow.status);
      const stored = (await stow.json()) as Record<string, { Value?: Record<string, unknown>[] }>;
      const retrieveUrl = (
        stored['00081199']?.Value?.[0]?.['00081190'] as { Value: string[] } | undefined
      )?.Value[0];
      expect(retrieveUrl).toMatch(new RegExp(`^${first.line.url}/studies/`));
      const wado = await fetch(retrieveUrl ?? '', {
        headers: {
          Authorization: `Bearer ${first.line.tokens.viewer}`,
          Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
        },
      });
      expect(wado.status).toBe(200);
      const parts = multipartParts(
        new Uint8Array(await wado.arrayBuffer()),
        wado.headers.get('content-type') ?? '',
      );
      expect(parts).toHaveLength(1);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { Authorization: `Bearer ${first.line.tokens.admin}` },
      });
      expect(await metrics.text()).toMatch(
        /^stego_gateway_instance_retrieves_total\{source="storage-folder"\} 1$/m,
      );
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
    expect(await portOpen(port)).toBe(false);
    expect(await portOpen(orthancHttp)).toBe(false);

    const keys = await readFile(path.join(dataDir, 'keys.json'), 'utf8');
    const second = await start(args);
    try {
      expect(second.line.tokens).toEqual(first.line.tokens);
      expect(await readFile(path.join(dataDir, 'keys.json'), 'utf8')).toBe(keys);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
  }, 120_000);
});

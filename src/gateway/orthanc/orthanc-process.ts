/**
 * Runs a local Orthanc through orthanc/start.sh (Debian's orthanc + orthanc-dicomweb), for `npm
 * start` and the integration tests: storage folder and ports as arguments, ready when GET /system
 * answers, stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { StegoGatewayError } from '../../stego/errors';

/** orthanc/start.sh, found from src/gateway/orthanc (tsx, jest) and dist/gateway/orthanc alike. */
export function orthancStartScript(): string {
  for (const up of ['../../..', '../../../..']) {
    const candidate = path.resolve(__dirname, up, 'orthanc/start.sh');
    if (existsSync(candidate)) return candidate;
  }
  throw new StegoGatewayError('ORTHANC_SCRIPT_MISSING', 'orthanc/start.sh not found');
}

/** Orthanc's StorageDirectory for a storage folder given to orthanc/start.sh (its `storage`). */
export function orthancStorageDirectory(storageDir: string): string {
  return path.join(path.resolve(storageDir), 'storage');
}

/** A TCP port free on loopback at the time of the call. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface OrthancProcessOptions {
  readonly storageDir: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  readonly username: string;
  readonly password: string;
  /** Extra configuration files merged by Orthanc (e.g. DicomWeb.Servers). */
  readonly extraConfigFiles?: readonly string[];
  readonly aet?: string;
  readonly startTimeoutMs?: number;
}

export interface OrthancProcess {
  readonly url: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  readonly pid: number | undefined;
  /** Orthanc's StorageDirectory (orthanc/start.sh: `storage` under the storage folder). */
  readonly storageDirectory: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startOrthancProcess(options: OrthancProcessOptions): Promise<OrthancProcess> {
  const child: ChildProcess = spawn(
    'bash',
    [
      orthancStartScript(),
      options.storageDir,
      String(options.httpPort),
      String(options.dicomPort),
      ...(options.extraConfigFiles ?? []),
    ],
    {
      env: {
        ...process.env,
        ORTHANC_USER: options.username,
        ORTHANC_PASSWORD: options.password,
        ...(options.aet === undefined ? {} : { ORTHANC_AET: options.aet }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  const url = `http://127.0.0.1:${options.httpPort}`;
  const authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let done = false;
  void exited.then(() => {
    done = true;
  });
  for (;;) {
    if (done) {
      throw new StegoGatewayError(
        'ORTHANC_START_FAILED',
        `Orthanc exited during start: ${stderr.trim().slice(-500)}`,
      );
    }
    try {
      const response = await fetch(`${url}/system`, { headers: { Authorization: authorization } });
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new StegoGatewayError(
        'ORTHANC_START_FAILED',
        `Orthanc did not answer on port [${options.httpPort}] in time`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    httpPort: options.httpPort,
    dicomPort: options.dicomPort,
    pid: child.pid,
    storageDirectory: orthancStorageDirectory(options.storageDir),
    exited,
    async stop(): Promise<void> {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

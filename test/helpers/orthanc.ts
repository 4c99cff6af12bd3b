/**
 * Starts a real Orthanc (orthanc/start.sh: Debian's orthanc + DICOMweb plugin) on free loopback ports
 * with a temporary storage folder, and removes everything on stop.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { freePort, startOrthancProcess } from '../../src/gateway/orthanc/orthanc-process';

export interface TestOrthanc {
  /** REST base, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  readonly username: string;
  readonly password: string;
  readonly storageDir: string;
  /** Orthanc's StorageDirectory, where it writes the stored files. */
  readonly storageDirectory: string;
  /** The Orthanc process (start.sh execs it). */
  readonly pid: number | undefined;
  /** `Authorization: Basic ...` for direct calls. */
  readonly authorization: string;
  stop(): Promise<void>;
}

export interface TestOrthancOptions {
  /** Extra top-level configuration merged into Orthanc's (e.g. { DicomWeb: { Servers: ... } }). */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  readonly aet?: string;
}

export async function startTestOrthanc(options: TestOrthancOptions = {}): Promise<TestOrthanc> {
  const storageDir = await mkdtemp(path.join(os.tmpdir(), 'stego-orthanc-'));
  const username = 'gateway';
  const password = `pw${Math.random().toString(36).slice(2, 12)}`;
  const extraConfigFiles: string[] = [];
  if (options.extraConfig !== undefined) {
    const file = path.join(storageDir, 'extra.json');
    await writeFile(file, JSON.stringify(options.extraConfig));
    extraConfigFiles.push(file);
  }
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const orthancProcess = await startOrthancProcess({
    storageDir,
    httpPort,
    dicomPort,
    username,
    password,
    extraConfigFiles,
    ...(options.aet === undefined ? {} : { aet: options.aet }),
  });
  return {
    url: orthancProcess.url,
    httpPort,
    dicomPort,
    username,
    password,
    storageDir,
    storageDirectory: orthancProcess.storageDirectory,
    pid: orthancProcess.pid,
    authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
    async stop(): Promise<void> {
      await orthancProcess.stop();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

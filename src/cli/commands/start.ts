/**
 * `stego-gateway start` (`npm start`): a local Orthanc and the gateway in front of it, ready to use.
 * First start creates, under the data folder, the key ring, the token secret, Orthanc's password,
 * editable rules and one token per role; every start prints ONE JSON line on stdout:
 *   {"url": "http://127.0.0.1:PORT/dicom-web", "tokens": {"modality": "...", ...}}
 * Logs go to stderr. SIGTERM / SIGINT stop the gateway, then Orthanc.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { decodeJwt } from 'jose';
import pino from 'pino';
import { z } from 'zod';
import YAML from 'yaml';

import { generateHs256Secret, mintToken } from '../../gateway/auth/credentials';
import type { Role } from '../../gateway/auth/types';
import { parseGatewayConfig } from '../../gateway/config';
import { createIdentityEngine } from '../../gateway/identity/create-identity-engine';
import { createLogger } from '../../gateway/logging/create-logger';
import {
  orthancStorageDirectory,
  startOrthancProcess,
} from '../../gateway/orthanc/orthanc-process';
import { defaultRulesText, startGateway } from '../../gateway/start-gateway';
import { generateKeyRing, serializeKeyRing } from '../../stego/key-ring';
import { StegoGatewayError } from '../../stego/errors';

export interface StartOptions {
  readonly port: number;
  readonly host: string;
  readonly orthancHttpPort: number;
  readonly orthancDicomPort: number;
  readonly data: string;
  readonly install: boolean;
  /** Use the upstreams of --config (production, docker/): no local Orthanc, no data folder. */
  readonly externalOrthanc?: boolean;
  readonly config?: string;
  readonly segmenter?: string;
}

const ROLES: readonly Role[] = ['modality', 'viewer', 'auditor', 'admin'];
const secretsSchema = z.object({
  hs256Secret: z.string().min(32),
  orthancPassword: z.string().min(16),
});
const tokensSchema = z.object({
  modality: z.string(),
  viewer: z.string(),
  auditor: z.string(),
  admin: z.string(),
});

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('not a port number');
  return n;
}

export function startCommand(): Command {
  return new Command('start')
    .description(
      'start a local Orthanc and the gateway in front of it; prints the URL and tokens as JSON',
    )
    .option('--port <port>', 'gateway HTTP port', port, 8080)
    .option('--host <host>', 'gateway bind address', '127.0.0.1')
    .option('--orthanc-http-port <port>', "Orthanc's HTTP port (loopback only)", port, 8042)
    .option('--orthanc-dicom-port <port>', "Orthanc's DICOM port", port, 4242)
    .option('--data <dir>', 'data folder (keys, tokens, Orthanc storage, audit trail)', '.data')
    .option('--config <file>', 'gateway configuration (YAML/JSON) merged over the defaults')
    .option('--segmenter <name>', 'default segmenter (onnx-maskrcnn | threshold)')
    .option('--no-install', 'never apt-get install a missing Orthanc')
    .option(
      '--external-orthanc',
      'run only the gateway, configured entirely by --config (${VAR} taken from the environment)',
    )
    .action(async (options: StartOptions) => {
      await runStart(options);
    });
}

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function writePrivate(file: string, text: string): Promise<void> {
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}

function orthancInstalled(): boolean {
  const found = spawnSync('sh', ['-c', 'command -v Orthanc || test -x /usr/sbin/Orthanc'], {
    stdio: 'ignore',
  });
  return (
    found.status === 0 &&
    spawnSync('test', ['-f', '/usr/share/orthanc/plugins/libOrthancDicomWeb.so']).status === 0
  );
}

function installOrthanc(): void {
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = asRoot ? [] : ['sudo', '-n'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', '--no-install-recommends', 'orthanc', 'orthanc-dicomweb'],
  ]) {
    const [command, ...rest] = [...prefix, ...args];
    const result = spawnSync(command ?? 'apt-get', rest, { stdio: ['ignore', 2, 2], env });
    if (result.status !== 0) {
      throw new StegoGatewayError(
        'ORTHANC_INSTALL_FAILED',
        `[${args.join(' ')}] failed; install orthanc and orthanc-dicomweb`,
      );
    }
  }
}

/** Creates what the first start needs; later starts reuse it. */
async function prepareDataDir(
  dataDir: string,
  options: StartOptions,
): Promise<{
  secrets: z.infer<typeof secretsSchema>;
  secretsCreated: boolean;
  keyRingFile: string;
  rulesFile: string;
}> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secretsFile = path.join(dataDir, 'secrets.json');
  let secrets = await readJson(secretsFile, secretsSchema);
  const secretsCreated = secrets === undefined;
  if (secrets === undefined) {
    secrets = {
      hs256Secret: generateHs256Secret(),
      orthancPassword: randomBytes(18)
        .toString('base64url')
        .replace(/[^A-Za-z0-9]/g, 'x'),
    };
    await writePrivate(secretsFile, `${JSON.stringify(secrets, null, 2)}\n`);
  }
  const keyRingFile = path.join(dataDir, 'keys.json');
  if ((await readFile(keyRingFile, 'utf8').catch(() => undefined)) === undefined) {
    const ring = generateKeyRing((n) => randomBytes(n));
    await writePrivate(keyRingFile, `${JSON.stringify(serializeKeyRing(ring), null, 2)}\n`);
  }
  const rulesFile = path.join(dataDir, 'rules.yaml');
  if ((await readFile(rulesFile, 'utf8').catch(() => undefined)) === undefined) {
    const defaults = parseGatewayConfig({
      upstreams: { orthanc: { url: 'http://127.0.0.1', username: 'u', password: 'p' } },
      embedding: {
        keyRingFile,
        ...(options.segmenter === undefined ? {} : { defaultSegmenter: options.segmenter }),
      },
      auth: {},
    });
    await writeFile(rulesFile, defaultRulesText(defaults));
  }
  return { secrets, secretsCreated, keyRingFile, rulesFile };
}

/** Tokens of the first start, re-minted when missing or expiring within a day. */
async function tokensFor(
  dataDir: string,
  secret: string,
  reuse: boolean,
): Promise<Record<Role, string>> {
  const file = path.join(dataDir, 'tokens.json');
  const existing = reuse ? await readJson(file, tokensSchema) : undefined;
  const fresh = (token: string): boolean => {
    try {
      const { exp } = decodeJwt(token);
      return typeof exp === 'number' && exp * 1000 > Date.now() + 86_400_000;
    } catch {
      return false;
    }
  };
  if (existing !== undefined && ROLES.every((role) => fresh(existing[role]))) return existing;
  const tokens = Object.fromEntries(
    await Promise.all(
      ROLES.map(async (role) => [
        role,
        await mintToken({ secret, subject: `local-${role}`, roles: [role] }),
      ]),
    ),
  ) as Record<Role, string>;
  await writePrivate(file, `${JSON.stringify(tokens, null, 2)}\n`);
  return tokens;
}

/** Replaces `${NAME}` by the environment's value; a missing one is an error naming it. */
function substituteEnvironment(text: string): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
    const value = process.env[name];
    if (value === undefined) {
      throw new StegoGatewayError('CONFIG_INVALID', `environment variable [${name}] is not set`);
    }
    return value;
  });
}

/** Production: the gateway alone, in front of the upstreams its configuration names. */
async function runExternal(options: StartOptions): Promise<void> {
  if (options.config === undefined) {
    throw new StegoGatewayError('CONFIG_INVALID', '--external-orthanc needs --config FILE');
  }
  const raw: unknown = YAML.parse(substituteEnvironment(await readFile(options.config, 'utf8')));
  const config = parseGatewayConfig(raw);
  const logger = createLogger({ level: config.logLevel, destination: pino.destination(2) });
  const gateway = await startGateway({
    config,
    logger,
    createEngine: (c, l) => createIdentityEngine(c, l),
  });
  process.stdout.write(`${JSON.stringify({ url: gateway.url })}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void gateway.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function runStart(options: StartOptions): Promise<void> {
  if (options.externalOrthanc === true) {
    await runExternal(options);
    return;
  }
  const dataDir = path.resolve(options.data);
  const logger = createLogger({ level: 'info', destination: pino.destination(2) });
  const { secrets, secretsCreated, keyRingFile, rulesFile } = await prepareDataDir(
    dataDir,
    options,
  );
  const orthancDir = path.join(dataDir, 'orthanc');
  const overrides: unknown =
    options.config === undefined ? {} : YAML.parse(await readFile(options.config, 'utf8'));
  const base = {
    http: { host: options.host, port: options.port },
    upstreams: {
      orthanc: {
        url: `http://127.0.0.1:${options.orthancHttpPort}`,
        username: 'gateway',
        password: secrets.orthancPassword,
        // Orthanc runs beside the gateway as the same user: stored files are read in place.
        storageDirectory: orthancStorageDirectory(orthancDir),
      },
    },
    embedding: {
      keyRingFile,
      rulesFile,
      persistRules: true,
      ...(options.segmenter === undefined ? {} : { defaultSegmenter: options.segmenter }),
    },
    auth: { jwt: { hs256Secret: secrets.hs256Secret } },
    audit: { kind: 'sqlite', path: path.join(dataDir, 'audit.sqlite') },
  };
  const config = parseGatewayConfig(merge(base, overrides));

  if (!orthancInstalled()) {
    if (!options.install) {
      throw new StegoGatewayError(
        'ORTHANC_MISSING',
        'Orthanc is not installed (apt-get install orthanc orthanc-dicomweb), and --no-install forbids installing it',
      );
    }
    logger.info('installing orthanc and orthanc-dicomweb with apt-get');
    installOrthanc();
  }
  const orthanc = await startOrthancProcess({
    storageDir: orthancDir,
    httpPort: options.orthancHttpPort,
    dicomPort: options.orthancDicomPort,
    username: 'gateway',
    password: secrets.orthancPassword,
  });
  let gateway;
  try {
    gateway = await startGateway({
      config,
      logger,
      createEngine: (c, l) => createIdentityEngine(c, l),
    });
  } catch (error) {
    await orthanc.stop();
    throw error;
  }
  const tokens = await tokensFor(dataDir, secrets.hs256Secret, !secretsCreated);
  process.stdout.write(`${JSON.stringify({ url: gateway.url, tokens })}\n`);

  const running = gateway;
  // One faulty request must not take the gateway (and the studies in flight) down: log and go on.
  process.on('unhandledRejection', (reason) => {
    logger.error(
      { code: 'UNHANDLED_REJECTION', err: reason instanceof Error ? reason.name : 'unknown' },
      'unhandled rejection',
    );
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (async () => {
      await running.close().catch(() => undefined);
      await orthanc.stop();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  void orthanc.exited.then((code) => {
    if (stopping) return;
    logger.error({ code }, 'Orthanc exited; stopping the gateway');
    stopping = true;
    void running.close().finally(() => process.exit(1));
  });
}

/** Deep merge of plain objects (the file's values win); arrays and scalars replace. */
function merge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base))
    return over === undefined ? base : over;
  if (typeof over !== 'object' || over === null || Array.isArray(over))
    return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over as Record<string, unknown>)) {
    out[key] = merge(out[key], value);
  }
  return out;
}

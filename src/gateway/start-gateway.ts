/**
 * Builds the real gateway from a parsed configuration (Orthanc clients, logger, audit store,
 * authenticator, rules, identity engine), listens, and gives back a handle to stop it. Used by
 * `stego-gateway start` and by the integration tests; createApp stays free of I/O.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

import { StegoGatewayError } from '../stego/errors';
import { auditRouter } from './audit/audit-router';
import { createAuditStore } from './audit/create-audit-store';
import type { AuditStore } from './audit/types';
import { createAuthenticator } from './auth/authenticator';
import type { Authenticator } from './auth/authenticator';
import { createApp } from './app';
import type { GatewayConfig } from './config';
import type { IdentityEngine } from './identity/identity-engine';
import { createLogger } from './logging/create-logger';
import type { GatewayMetrics } from './metrics';
import { OrthancClient } from './orthanc/orthanc-client';
import { adminRulesRouter } from './rules/admin-rules-router';
import { RuleStore } from './rules/rule-store';
import type { RuleError } from './rules/types';

export interface StartGatewayOptions {
  readonly config: GatewayConfig;
  /** Builds the identity engine (the pipeline adapter, or another one in tests). */
  readonly createEngine: (config: GatewayConfig, logger: Logger) => Promise<IdentityEngine>;
  /** Default: pino on stdout at config.logLevel. */
  readonly logger?: Logger;
  readonly authenticator?: Authenticator;
  readonly audit?: AuditStore;
}

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080/dicom-web */
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  readonly rules: RuleStore;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  close(): Promise<void>;
}

/** The rules in force when no rules file is configured: embed everything, keep the original on failure. */
export function defaultRulesText(config: GatewayConfig): string {
  return [
    'version: 1',
    'rules: []',
    'default:',
    '  name: default',
    '  action: embed',
    `  profile: ${config.embedding.defaultProfile}`,
    `  segmenter: ${config.embedding.defaultSegmenter}`,
    `  marginPx: ${config.embedding.marginPx}`,
    '  uidPolicy: keep',
    '  onFailure: store-original',
    '',
  ].join('\n');
}

function rulesError(errors: readonly RuleError[]): StegoGatewayError {
  return new StegoGatewayError(
    'RULES_INVALID',
    `invalid rules: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
  );
}

/**
 * A storage folder the gateway cannot read would only show as every retrieve going over HTTP: the
 * start fails instead, naming the setting.
 */
async function checkStorageDirectory(name: string, directory: string): Promise<void> {
  const setting = `upstreams.${name}.storageDirectory`;
  let isFolder: boolean;
  try {
    isFolder = (await stat(directory)).isDirectory();
    await access(directory, constants.R_OK | constants.X_OK);
  } catch (error) {
    throw new StegoGatewayError(
      'CONFIG_INVALID',
      `${setting} [${directory}] cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!isFolder) {
    throw new StegoGatewayError('CONFIG_INVALID', `${setting} [${directory}] is not a folder`);
  }
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const destinations = Object.keys(config.upstreams);
  const loaded =
    config.embedding.rulesFile === undefined
      ? RuleStore.fromText(defaultRulesText(config), { destinations })
      : RuleStore.fromText(await readFile(config.embedding.rulesFile, 'utf8'), {
          destinations,
          ...(config.embedding.persistRules ? { persistPath: config.embedding.rulesFile } : {}),
        });
  if (!loaded.ok) throw rulesError(loaded.errors);
  const rules = loaded.store;

  const orthanc = new Map<string, OrthancClient>();
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    if (upstream.storageDirectory !== undefined) {
      await checkStorageDirectory(name, upstream.storageDirectory);
      logger.info(
        { upstream: name, storageDirectory: upstream.storageDirectory },
        "WADO-RS reads stored files in Orthanc's storage folder",
      );
    }
    orthanc.set(name, new OrthancClient(name, upstream));
  }
  const audit = options.audit ?? (await createAuditStore(config.audit));
  const authenticator = options.authenticator ?? (await createAuthenticator(config.auth));
  const engine = await options.createEngine(config, logger);
  const { app, metrics } = createApp({
    config,
    orthanc,
    engine,
    audit,
    authenticator,
    rules: () => rules.rules,
    logger,
    extraRouters: [
      adminRulesRouter({
        store: rules,
        authenticator,
        logger,
        maxTestBytes: config.stow.maxPartBytes,
      }),
      auditRouter({ audit, authenticator }),
    ],
  });

  // A whole study may take long to upload; a stalled client is cut off after 30 minutes.
  const server = http.createServer({ requestTimeout: 30 * 60_000, headersTimeout: 60_000 }, app);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.http.host}:${port}${config.http.root}`;
  logger.info({ port, root: config.http.root }, 'gateway listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    rules,
    metrics,
    logger,
    close(): Promise<void> {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 5_000).unref();
        });
        await engine.close();
        await audit.close();
        for (const client of orthanc.values()) client.close();
      })();
      return closing;
    },
  };
}

/**
 * The gateway's one configuration schema (STYLE.md "Logging, config, security"): parsed once at start
 * from `unknown` (a YAML/JSON file, CLI flags), every problem reported together, then deeply frozen.
 * No module reads process.env: the CLI builds the input, createApp receives the result.
 */
import { z } from 'zod';

import { StegoGatewayError } from '../stego/errors';
import { SEGMENTER_NAMES } from '../segmentation/segmenter';
import { EMBED_PROFILES } from './rules/types';

const MiB = 1024 * 1024;

const upstreamSchema = z
  .object({
    /** Orthanc's REST base URL, e.g. http://127.0.0.1:8042 */
    url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    username: z.string().min(1),
    password: z.string().min(1),
    /** Root of Orthanc's DICOMweb plugin (its `DicomWeb.Root`). */
    dicomWebRoot: z
      .string()
      .regex(/^\/[^?#]*$/)
      .default('/dicom-web')
      .transform((r) => r.replace(/\/+$/, '')),
    timeoutMs: z.number().int().positive().default(60_000),
    /**
     * Orthanc's StorageDirectory, where Orthanc runs on this host and the gateway may read it (as
     * `npm start` runs them): a WADO-RS retrieve of an instance in its stored syntax and the
     * identity routes read the stored file there instead of asking Orthanc for it
     * (docs/api.md). Absent: always over HTTP.
     */
    storageDirectory: z.string().min(1).exactOptional(),
  })
  .strict();

const authSchema = z
  .object({
    jwt: z
      .object({
        hs256Secret: z.string().min(32).exactOptional(),
        rs256PublicKeys: z
          .array(z.object({ kid: z.string().exactOptional(), pem: z.string().min(1) }).strict())
          .exactOptional(),
        issuer: z.string().exactOptional(),
        audience: z.string().exactOptional(),
        rolesClaim: z.string().exactOptional(),
        clockToleranceSec: z.number().nonnegative().exactOptional(),
      })
      .strict()
      .exactOptional(),
    apiKeys: z
      .array(
        z
          .object({
            id: z.string().min(1),
            subject: z.string().min(1),
            roles: z.array(z.enum(['modality', 'viewer', 'auditor', 'admin'])),
            hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
          })
          .strict(),
      )
      .exactOptional(),
    realm: z.string().exactOptional(),
  })
  .strict();

const auditSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), path: z.string().min(1) }).strict(),
  z
    .object({
      kind: z.literal('postgres'),
      connectionString: z.string().min(1),
      poolSize: z.number().int().positive().exactOptional(),
    })
    .strict(),
]);

export const gatewayConfigSchema = z
  .object({
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Mount point of every DICOMweb route. */
        root: z
          .string()
          .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a path such as /dicom-web')
          .default('/dicom-web')
          .transform((r) => (r === '/' ? '' : r.replace(/\/+$/, ''))),
        /**
         * Base URL clients reach the gateway at (behind a proxy), without the root. Default: the
         * scheme and Host of each request.
         */
        publicBaseUrl: z
          .url({ protocol: /^https?$/ })
          .transform((u) => u.replace(/\/+$/, ''))
          .exactOptional(),
        cors: z
          .object({
            /** Allowed origins; [] disables CORS, ['*'] allows any. */
            origins: z.array(z.string().min(1)).default([]),
            maxAgeSec: z.number().int().nonnegative().default(600),
          })
          .strict()
          .default({ origins: [], maxAgeSec: 600 }),
      })
      .strict()
      .default({
        host: '127.0.0.1',
        port: 8080,
        root: '/dicom-web',
        cors: { origins: [], maxAgeSec: 600 },
      }),
    /** Orthanc upstreams by name; rules name one as `destination`. */
    upstreams: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), upstreamSchema),
    defaultUpstream: z.string().default('orthanc'),
    stow: z
      .object({
        /** Largest accepted DICOM part; larger parts fail with 0xA700 and are skipped. */
        maxPartBytes: z
          .number()
          .int()
          .positive()
          .default(64 * MiB),
        /** Largest accepted request body; the request stops with 413 beyond it. */
        maxRequestBytes: z
          .number()
          .int()
          .positive()
          .default(4096 * MiB),
        /** Instances of one request processed at the same time. */
        concurrency: z.number().int().min(1).max(64).default(4),
      })
      .strict()
      .default({ maxPartBytes: 64 * MiB, maxRequestBytes: 4096 * MiB, concurrency: 4 }),
    embedding: z
      .object({
        /** Key ring file (src/stego KeyRing JSON). */
        keyRingFile: z.string().min(1),
        /** Rules YAML file; absent: embed everything with the defaults below. */
        rulesFile: z.string().min(1).exactOptional(),
        /** Write accepted PUT /admin/rules back to rulesFile. */
        persistRules: z.boolean().default(false),
        defaultProfile: z.enum(EMBED_PROFILES).default('fidelity'),
        defaultSegmenter: z.enum(SEGMENTER_NAMES).default('onnx-maskrcnn'),
        marginPx: z.number().int().min(0).max(64).default(4),
        /** Worker threads for embedding; 0 = in the event loop's thread (tests, tiny setups). */
        workers: z.number().int().min(0).max(64).default(2),
        /** ONNX model file for onnx-maskrcnn (default: the segmentation module's own). */
        modelPath: z.string().min(1).exactOptional(),
      })
      .strict(),
    auth: authSchema,
    audit: auditSchema.default({ kind: 'sqlite', path: ':memory:' }),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (!(config.defaultUpstream in config.upstreams)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultUpstream'],
        message: `names no configured upstream [${config.defaultUpstream}]`,
      });
    }
  });

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = DeepReadonly<z.output<typeof gatewayConfigSchema>>;
export type UpstreamConfig = GatewayConfig['upstreams'][string];

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Parses and freezes the configuration. Throws CONFIG_INVALID listing every problem as
 * `path: reason` (never a value: it may be a secret).
 */
export function parseGatewayConfig(input: unknown): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`,
    );
    throw new StegoGatewayError(
      'CONFIG_INVALID',
      `invalid gateway configuration: ${problems.join('; ')}`,
      { httpStatus: 500 },
    );
  }
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Per-request cost of gateway-B's pieces on the request path, each beside its baseline measured in
 * the same run: a log line through the redacting logger vs plain pino; bearer authentication (JWT
 * HS256, API key) vs an empty async call; an audit row in SQLite (WAL) vs the same insert without
 * the store wrapper is not separable, so audit is reported as rows/s. Medians of 7 rounds.
 * Run: npx tsx -e "require('./bench/gateway-security').run()"  (or `npm run bench -- gateway-security`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import pino from 'pino';

import { createAuditStore } from '../src/gateway/audit';
import {
  createAuthenticator,
  generateApiKey,
  generateHs256Secret,
  mintToken,
} from '../src/gateway/auth';
import { createLogger } from '../src/gateway/logging';

const ROUNDS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function timePerOp(ops: number, body: () => unknown): Promise<number> {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i += 1) {
      const result = body();
      if (result instanceof Promise) await result;
    }
    rounds.push(Number(process.hrtime.bigint() - start) / 1000 / ops);
  }
  return median(rounds);
}

function line(label: string, us: number, baselineUs: number): void {
  console.log(
    `${label.padEnd(44)} ${us.toFixed(2).padStart(9)} us/op   baseline ${baselineUs.toFixed(2).padStart(8)} us/op   ratio ${(us / baselineUs).toFixed(2)}x`,
  );
}

export async function run(): Promise<void> {
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  const redacted = createLogger({ destination: sink });
  const plain = pino({ level: 'info' }, sink);
  const entry = {
    sopUid: '1.2.3.4.5',
    rule: 'ct-embed',
    req: {
      method: 'POST',
      url: '/dicom-web/studies',
      headers: { authorization: 'Bearer x', host: 'h' },
    },
    PatientName: 'DOE^JANE',
  };
  const logPlain = await timePerOp(20_000, () => plain.info(entry, 'stored'));
  const logRedacted = await timePerOp(20_000, () => redacted.info(entry, 'stored'));
  line('log line, redacting logger vs plain pino', logRedacted, logPlain);

  const secret = generateHs256Secret();
  const key = generateApiKey('bench', ['viewer'], 'bench');
  const auth = await createAuthenticator({ jwt: { hs256Secret: secret }, apiKeys: [key.record] });
  const token = await mintToken({ secret, subject: 'bench', roles: ['viewer'] });
  const noop = await timePerOp(20_000, () => Promise.resolve());
  line(
    'authenticate JWT HS256 vs empty async call',
    await timePerOp(5_000, () => auth.authenticate(`Bearer ${token}`)),
    noop,
  );
  line(
    'authenticate API key vs empty async call',
    await timePerOp(5_000, () => auth.authenticate(`Bearer ${key.key}`)),
    noop,
  );

  const dir = mkdtempSync(path.join(tmpdir(), 'bench-audit-'));
  try {
    const audit = await createAuditStore({ kind: 'sqlite', path: path.join(dir, 'audit.db') });
    const at = new Date();
    const perRow = await timePerOp(2_000, () =>
      audit.recordStore({
        outcome: 'embedded',
        rule: 'r',
        profile: 'fidelity',
        keyId: 'k',
        studyUid: '1.2',
        seriesUid: '1.2.3',
        sopUid: '1.2.3.4',
        caller: 'bench',
        at,
      }),
    );
    line('audit row, SQLite WAL (vs empty async call)', perRow, noop);
    console.log(
      `audit rows per second (SQLite WAL, synchronous=NORMAL): ${Math.round(1e6 / perRow)}`,
    );
    await audit.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

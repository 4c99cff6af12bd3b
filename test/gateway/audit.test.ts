import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import Database from 'better-sqlite3';

import { createAuditStore, parseAuditQuery } from '../../src/gateway/audit';
import type { AuditStore, StoreRecord } from '../../src/gateway/audit';

const run = promisify(execFile);

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = `${STUDY}.2`;
const t0 = new Date('2026-11-26T08:00:00.000Z');
const minutes = (n: number): Date => new Date(t0.getTime() + n * 60_000);

function store(overrides: Partial<StoreRecord> = {}): StoreRecord {
  return {
    outcome: 'embedded',
    rule: 'ct-embed',
    profile: 'fidelity',
    keyId: 'k1',
    studyUid: STUDY,
    seriesUid: SERIES,
    sopUid: `${SERIES}.1`,
    caller: 'ct-1',
    destination: 'main',
    at: t0,
    ...overrides,
  };
}

/** The same behaviour from both backends. */
function auditContract(open: () => Promise<AuditStore>): void {
  let audit: AuditStore;
  beforeEach(async () => {
    audit = await open();
  });
  afterEach(async () => {
    await audit.close();
  });

  it('records stored instances and extractions and returns them newest first', async () => {
    await audit.recordStore(store());
    await audit.recordStore(
      store({
        outcome: 'rejected',
        rule: 'refuse-sc',
        profile: null,
        keyId: null,
        failureReason: 0x0122,
        sopUid: `${SERIES}.2`,
        at: minutes(1),
      }),
    );
    await audit.recordExtraction({
      caller: 'auditor-1',
      studyUid: STUDY,
      seriesUid: SERIES,
      sopUid: `${SERIES}.1`,
      result: 'match',
      profile: 'fidelity',
      keyId: 'k1',
      at: minutes(2),
    });
    const entries = await audit.query({ limit: 10, offset: 0 });
    expect(entries.map((e) => [e.kind, e.outcome])).toEqual([
      ['extraction', 'match'],
      ['store', 'rejected'],
      ['store', 'embedded'],
    ]);
    expect(entries[2]).toEqual({
      id: expect.any(Number),
      kind: 'store',
      at: t0,
      caller: 'ct-1',
      outcome: 'embedded',
      rule: 'ct-embed',
      profile: 'fidelity',
      keyId: 'k1',
      studyUid: STUDY,
      seriesUid: SERIES,
      sopUid: `${SERIES}.1`,
      failureReason: null,
      destination: 'main',
      detail: null,
    });
    expect(entries[1]).toMatchObject({ failureReason: 0x0122, rule: 'refuse-sc', profile: null });
    expect(entries[0]).toEqual({
      id: expect.any(Number),
      kind: 'extraction',
      at: minutes(2),
      caller: 'auditor-1',
      outcome: 'match',
      profile: 'fidelity',
      keyId: 'k1',
      studyUid: STUDY,
      seriesUid: SERIES,
      sopUid: `${SERIES}.1`,
      detail: null,
    });
  });

  it('filters by time, caller, outcome, kind and study, and pages', async () => {
    for (let i = 0; i < 12; i += 1) {
      await audit.recordStore(
        store({
          sopUid: `${SERIES}.${i + 1}`,
          caller: i % 2 === 0 ? 'ct-1' : 'ct-2',
          outcome: i % 3 === 0 ? 'failed' : 'embedded',
          studyUid: i < 6 ? STUDY : `${STUDY}9`,
          at: minutes(i),
        }),
      );
    }
    await audit.recordExtraction({
      caller: 'auditor-1',
      studyUid: STUDY,
      seriesUid: null,
      sopUid: null,
      result: 'wrong-key',
      at: minutes(5),
    });
    const sops = (entries: readonly { sopUid: string | null }[]): (string | undefined)[] =>
      entries.map((e) => e.sopUid?.split('.').at(-1));

    expect(
      sops(
        await audit.query({
          from: minutes(3),
          to: minutes(6),
          kind: 'store',
          limit: 100,
          offset: 0,
        }),
      ),
    ).toEqual(['6', '5', '4']);
    expect(
      sops(await audit.query({ caller: 'ct-2', outcome: 'failed', limit: 100, offset: 0 })),
    ).toEqual(['10', '4']);
    expect(await audit.query({ kind: 'extraction', limit: 100, offset: 0 })).toEqual([
      expect.objectContaining({ outcome: 'wrong-key', caller: 'auditor-1' }),
    ]);
    expect(await audit.query({ outcome: 'wrong-key', limit: 100, offset: 0 })).toHaveLength(1);
    expect(sops(await audit.query({ studyUid: `${STUDY}9`, limit: 100, offset: 0 }))).toEqual([
      '12',
      '11',
      '10',
      '9',
      '8',
      '7',
    ]);
    const page1 = await audit.query({ kind: 'store', limit: 5, offset: 0 });
    const page2 = await audit.query({ kind: 'store', limit: 5, offset: 5 });
    const page3 = await audit.query({ kind: 'store', limit: 5, offset: 10 });
    expect([...sops(page1), ...sops(page2), ...sops(page3)]).toEqual([
      '12',
      '11',
      '10',
      '9',
      '8',
      '7',
      '6',
      '5',
      '4',
      '3',
      '2',
      '1',
    ]);
  });

  it('keeps malformed UIDs (e.g. a name smuggled into a UID field) out of the trail', async () => {
    await audit.recordStore(
      store({ studyUid: 'DOE^JANE', seriesUid: `${SERIES}.x`, sopUid: '1'.repeat(65) }),
    );
    const [entry] = await audit.query({ limit: 1, offset: 0 });
    expect(entry).toMatchObject({ studyUid: null, seriesUid: null, sopUid: null });
  });

  it('refuses invalid records and queries with stable codes', async () => {
    await expect(
      audit.recordStore(store({ outcome: 'great' as StoreRecord['outcome'] })),
    ).rejects.toMatchObject({
      code: 'AUDIT_RECORD_INVALID',
    });
    await expect(audit.recordStore(store({ at: new Date('nope') }))).rejects.toMatchObject({
      code: 'AUDIT_RECORD_INVALID',
    });
    await expect(audit.query({ limit: 0, offset: 0 })).rejects.toMatchObject({
      code: 'AUDIT_QUERY_INVALID',
      httpStatus: 400,
    });
    await expect(audit.query({ limit: 10, offset: -1 })).rejects.toMatchObject({
      code: 'AUDIT_QUERY_INVALID',
    });
    await expect(audit.query({ limit: 1001, offset: 0 })).rejects.toMatchObject({
      code: 'AUDIT_QUERY_INVALID',
    });
  });

  it('fails with AUDIT_UNAVAILABLE once closed', async () => {
    await audit.close();
    await expect(audit.recordStore(store())).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    await expect(audit.query({ limit: 1, offset: 0 })).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
    });
  });
}

describe('SQLite audit store', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'audit-sqlite-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  let counter = 0;

  describe('contract', () => {
    auditContract(async () => {
      counter += 1;
      file = path.join(dir, `audit-${counter}.db`);
      return createAuditStore({ kind: 'sqlite', path: file });
    });
  });

  it('uses WAL, keeps rows across reopen and migrates once', async () => {
    const target = path.join(dir, 'reopen.db');
    const first = await createAuditStore({ kind: 'sqlite', path: target });
    await first.recordStore(store());
    await first.close();
    const second = await createAuditStore({ kind: 'sqlite', path: target });
    expect(await second.query({ limit: 10, offset: 0 })).toHaveLength(1);
    await second.close();
    const db = new Database(target, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM audit_schema_migrations').all()).toEqual([
      { version: 1 },
    ]);
    db.close();
  });

  it('never writes a patient attribute to the database file', async () => {
    const target = path.join(dir, 'no-patient.db');
    const audit = await createAuditStore({ kind: 'sqlite', path: target });
    const name = 'Zzyzx^Quillon';
    await audit.recordStore(store({ studyUid: name, seriesUid: `PID-${name}`, sopUid: name }));
    await audit.close();
    for (const f of readdirSync(dir).filter((n) => n.startsWith('no-patient.db'))) {
      expect(readFileSync(path.join(dir, f)).includes(Buffer.from('Quillon'))).toBe(false);
    }
  });

  it('reports an unopenable file with AUDIT_UNAVAILABLE', async () => {
    await expect(
      createAuditStore({ kind: 'sqlite', path: path.join(dir, 'missing', 'a.db') }),
    ).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
    });
  });
});

/** A real PostgreSQL server from Debian's `postgresql` package, started for this test only. */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => path.join(root, version, 'bin'))
    .find((bin) => existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl')));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

/** initdb refuses to run as root: then the server runs as the package's `postgres` user. */
const AS_ROOT = process.getuid?.() === 0;
function postgresUserExists(): boolean {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PG_BIN = postgresBinDir();
const PG_SKIP_REASON =
  PG_BIN === undefined
    ? 'no initdb/pg_ctl under /usr/lib/postgresql/*/bin; apt-get install postgresql'
    : AS_ROOT && !postgresUserExists()
      ? 'running as root and no postgres user to run the server as'
      : undefined;
const describePg = PG_SKIP_REASON === undefined ? describe : describe.skip;
const pgTitle =
  PG_SKIP_REASON === undefined
    ? 'PostgreSQL audit store (real server)'
    : `PostgreSQL audit store (SKIPPED: ${PG_SKIP_REASON})`;

describePg(pgTitle, () => {
  const bin = PG_BIN ?? '';
  let dir: string;
  let connection: string;
  const pg = async (tool: string, args: string[]): Promise<void> => {
    const binary = path.join(bin, tool);
    if (AS_ROOT) await run('runuser', ['-u', 'postgres', '--', binary, ...args]);
    else await run(binary, args);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'audit-pg-'));
    if (AS_ROOT) {
      const { stdout: uid } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(uid.trim()), Number(gid.trim()));
    }
    const data = path.join(dir, 'data');
    await pg('initdb', ['-D', data, '-U', 'sgw', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const port = await freePort();
    await pg('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    connection = `postgres://sgw@127.0.0.1:${port}/postgres`;
  }, 120_000);

  afterAll(async () => {
    await pg('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(
      () => undefined,
    );
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  describe('contract', () => {
    auditContract(async () => {
      const audit = await createAuditStore({ kind: 'postgres', connectionString: connection });
      // One database for all tests: start each from an empty table.
      const { Client } = await import('pg');
      const client = new Client({ connectionString: connection });
      await client.connect();
      await client.query('TRUNCATE audit_events');
      await client.end();
      return audit;
    });
  });

  it('lets several replicas open (and migrate) at once and share one trail', async () => {
    const replicas = await Promise.all(
      [1, 2, 3].map(() =>
        createAuditStore({ kind: 'postgres', connectionString: connection, poolSize: 2 }),
      ),
    );
    await Promise.all(
      replicas.map((r, i) =>
        r.recordStore(store({ caller: `replica-${i}`, at: minutes(100 + i) })),
      ),
    );
    const seen = await replicas[0]?.query({ from: minutes(100), limit: 10, offset: 0 });
    expect(seen?.map((e) => e.caller)).toEqual(['replica-2', 'replica-1', 'replica-0']);
    await Promise.all(replicas.map((r) => r.close()));
    const { Client } = await import('pg');
    const client = new Client({ connectionString: connection });
    await client.connect();
    const versions = await client.query('SELECT version FROM audit_schema_migrations');
    await client.end();
    expect(versions.rows).toEqual([{ version: 1 }]);
  });

  it('reports an unreachable server with AUDIT_UNAVAILABLE and no password in the message', async () => {
    const port = await freePort();
    const error: unknown = await createAuditStore({
      kind: 'postgres',
      connectionString: `postgres://sgw:s3cret-pw@127.0.0.1:${port}/postgres`,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(String((error as Error).message)).not.toContain('s3cret-pw');
  });
});

describe('parseAuditQuery', () => {
  it('reads GET /audit parameters with defaults', () => {
    expect(parseAuditQuery({})).toEqual({ ok: true, filter: { limit: 100, offset: 0 } });
    expect(
      parseAuditQuery({
        from: '2026-11-26T08:00:00Z',
        to: '2026-11-27',
        caller: 'ct-1',
        outcome: 'embedded',
        kind: 'store',
        studyUid: STUDY,
        limit: '5',
        offset: '10',
      }),
    ).toEqual({
      ok: true,
      filter: {
        from: t0,
        to: new Date('2026-11-27T00:00:00Z'),
        caller: 'ct-1',
        outcome: 'embedded',
        kind: 'store',
        studyUid: STUDY,
        limit: 5,
        offset: 10,
      },
    });
  });

  it('reports every bad parameter at once', () => {
    const result = parseAuditQuery({
      from: 'yesterday',
      limit: '5000',
      kind: 'all',
      outcome: ['a', 'b'],
      foo: '1',
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const paths = result.errors.map((e) => e.path).sort();
      expect(paths).toEqual(['', 'from', 'kind', 'limit', 'outcome']);
      expect(result.errors.find((e) => e.path === '')?.message).toBe('unknown parameter [foo]');
    }
  });
});

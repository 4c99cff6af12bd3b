import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../../src/cli/cli-error';
import { CODEC_ERROR_STATUS } from '../../src/dicom/codecs/codec-error';
import { DICOM_ERROR_STATUS } from '../../src/dicom/dicom-error';
import { PIPELINE_ERROR_STATUS } from '../../src/pipeline/pipeline-error';

/**
 * docs/errors.md is the one catalogue of error codes: every code that src/ throws, answers or logs
 * must have its row, and the HTTP and exit columns must agree with the code tables.
 */
const root = path.resolve(__dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');

/** Upper-case literals with an underscore that are values, not error codes. */
const NOT_CODES = new Set([
  // Photometric Interpretation values (PS3.3 C.7.6.3.1.2).
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_ICT',
  'YBR_RCT',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** Every code literal of src/: thrown, passed to an error helper, answered or logged. */
function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  const patterns = [
    // 'SOME_CODE' anywhere (throws, helper calls, code maps, JSON answers, log records).
    /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g,
    // A one-word code given as a code.
    /\bcode: '([A-Z][A-Z0-9]+)'/g,
    /StegoGatewayError\(\s*'([A-Z][A-Z0-9_]*)'/g,
  ];
  for (const file of sourceFiles(path.join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) {
        const code = m[1] as string;
        if (!NOT_CODES.has(code) && !found.has(code)) found.set(code, path.relative(root, file));
      }
    }
  }
  return found;
}

/** Rows `| `CODE` | HTTP | exit | ...` of the catalogue tables. */
function documentedRows(): Map<string, { http: string; exit: string }> {
  const rows = new Map<string, { http: string; exit: string }>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // ['', codes, http, exit, thrown by, meaning, '']
    if (cells.length < 7 || !cells[1]?.startsWith('`')) continue;
    for (const m of (cells[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)) {
      rows.set(m[1] as string, { http: cells[2] ?? '', exit: cells[3] ?? '' });
    }
  }
  return rows;
}

describe('docs/errors.md', () => {
  const codes = codesInSources();
  const rows = documentedRows();

  it('finds the codes of every layer in src/', () => {
    expect(codes.size).toBeGreaterThanOrEqual(90);
    for (const code of ['INVALID_FRAME', 'NOT_DICOM', 'CODEC_UNAVAILABLE', 'EMBEDDING_UNSTABLE']) {
      expect(codes.has(code)).toBe(true);
    }
    for (const code of [
      'AUTH_MISSING',
      'AUDIT_UNAVAILABLE',
      'KEY_ID_TAKEN',
      'RULES_TEST_INVALID',
    ]) {
      expect(codes.has(code)).toBe(true);
    }
  });

  it('has a catalogue row for every code in src/', () => {
    const missing = [...codes].filter(([code]) => !rows.has(code)).map(([c, f]) => `${c} (${f})`);
    expect(missing).toEqual([]);
  });

  it('gives the HTTP status of the code tables', () => {
    const tables: Record<string, number> = {
      ...DICOM_ERROR_STATUS,
      ...CODEC_ERROR_STATUS,
      ...PIPELINE_ERROR_STATUS,
    };
    const wrong = Object.entries(tables)
      .filter(([code, status]) => rows.get(code)?.http !== String(status))
      .map(([code, status]) => `${code}: table ${status}, doc ${rows.get(code)?.http}`);
    expect(wrong).toEqual([]);
  });

  it('gives the command line exit code of exitCodeFor', () => {
    const wrong = [...rows]
      .filter(([, row]) => /^\d$/.test(row.exit))
      .filter(([code, row]) => exitCodeFor(code) !== Number(row.exit))
      .map(([code, row]) => `${code}: exitCodeFor ${exitCodeFor(code)}, doc ${row.exit}`);
    expect(wrong).toEqual([]);
    // Every code that exitCodeFor maps to something other than 1 says so in the doc.
    for (const [code] of rows) {
      if (exitCodeFor(code) !== 1)
        expect([code, rows.get(code)?.exit]).toEqual([code, String(exitCodeFor(code))]);
    }
  });
});

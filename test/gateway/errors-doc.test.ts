/** Every error code the gateway core uses is documented in docs/api.md (or docs/errors.md). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const OWN = [
  'src/gateway/app.ts',
  'src/gateway/config.ts',
  'src/gateway/cors.ts',
  'src/gateway/health-router.ts',
  'src/gateway/http-errors.ts',
  'src/gateway/metrics.ts',
  'src/gateway/start-gateway.ts',
  'src/gateway/stow',
  'src/gateway/dicomweb',
  'src/gateway/identity',
  'src/gateway/orthanc',
  'src/cli/commands/start.ts',
];

function files(entry: string): string[] {
  const full = path.join(root, entry);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(full, f));
}

describe('gateway error codes', () => {
  it('are all documented', () => {
    const docs =
      readFileSync(path.join(root, 'docs/api.md'), 'utf8') +
      readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
    const codes = new Set<string>();
    for (const file of OWN.flatMap(files)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) {
        codes.add(match[1] ?? '');
      }
    }
    // Built from the header reader's reasons: STOW_PART_<REASON>.
    for (const reason of ['NOT_DICOM', 'TRUNCATED', 'MALFORMED', 'MISSING_UID']) {
      codes.add(`STOW_PART_${reason}`);
    }
    expect(codes.size).toBeGreaterThan(20);
    const missing = [...codes].filter((code) => !docs.includes(code));
    expect(missing).toEqual([]);
  });
});

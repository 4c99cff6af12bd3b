import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

describe('docs/errors.md', () => {
  it('documents every error code thrown in src/stego', () => {
    const doc = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
    const dir = path.join(root, 'src/stego');
    const codes = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      for (const m of text.matchAll(/StegoGatewayError\(\s*'([A-Z_]+)'/g))
        codes.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThanOrEqual(6);
    for (const code of codes) expect([code, doc.includes(`\`${code}\``)]).toEqual([code, true]);
  });
});

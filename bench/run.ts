/**
 * `npm run bench [-- AREA...]`: runs the benchmark of each area (stego, pipeline, robust,
 * segmentation, gateway, gateway-security, codecs) and prints its figures beside a baseline measured in the same run. Benchmarks never fail
 * the build; an area whose module is missing or fails is reported and skipped.
 */
import path from 'node:path';
import fs from 'node:fs';

const AREAS = [
  'stego',
  'pipeline',
  'robust',
  'segmentation',
  'gateway',
  'gateway-security',
  'codecs',
] as const;

interface BenchModule {
  run(): Promise<void>;
}

function isBenchModule(value: unknown): value is BenchModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { run?: unknown }).run === 'function'
  );
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const areas = wanted.length > 0 ? wanted : [...AREAS];
  for (const area of areas) {
    const file = path.join(__dirname, `${area}.ts`);
    console.log(`\n=== ${area} ===`);
    if (!fs.existsSync(file)) {
      console.log(`(no benchmark for ${area})`);
      continue;
    }
    try {
      const mod: unknown = await import(file);
      if (!isBenchModule(mod)) throw new Error(`bench/${area}.ts exports no run()`);
      await mod.run();
    } catch (error) {
      console.log(
        `benchmark ${area} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

void main();

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDicomImage, walkPart10 } from '../../src/dicom';
import { identityRecordOf } from '../../src/pipeline';
import { runCli, type CliResult } from '../cli/run-cli';
import { DATA_DIR } from './format-files';

/**
 * Every file of ../shared/data/formats through the real command line, as a PACS administrator would
 * run it: one `embed --out-dir` over the folder (fidelity profile, the default segmenter: the real
 * ONNX model, one session for the run), then one `extract` over the embedded outputs. Each embedded
 * file's extracted record is compared with the record read from its input's header. Shared by
 * test/formats/cli-formats.test.ts and scripts/formats-survey.ts (the CLI totals of docs/formats.md).
 */

export const FORMATS_DIR = path.join(DATA_DIR, 'formats');

export interface EmbedLine {
  readonly file: string;
  readonly outcome: 'embedded' | 'passthrough' | 'failed';
  readonly code?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly output?: string;
  readonly transferSyntaxUid?: string;
  readonly warnings?: readonly string[];
  readonly frames?: number;
}

export interface ExtractLine {
  readonly file: string;
  readonly outcome: 'extracted' | 'failed';
  readonly code?: string;
  readonly frames?: number;
  readonly framesWithPayload?: number;
  readonly framesAgree?: boolean;
  readonly keyId?: string;
  readonly identity?: { kind: string; fields?: Record<string, string>; keyId?: string };
}

export interface CliFileOutcome {
  /** Relative to ../shared/data/formats. */
  readonly file: string;
  readonly embed: EmbedLine;
  /** Embedded files: their line of the extract run. */
  readonly extract?: ExtractLine;
  /** Embedded files: the record came back from every frame and equals the input header's. */
  readonly exact?: boolean;
}

export interface CliBatchRun {
  readonly keyId: string;
  readonly outDir: string;
  readonly embedRun: CliResult;
  readonly extractRun: CliResult | undefined;
  readonly files: readonly CliFileOutcome[];
}

export function ndjson<T>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** The identity record fields the fidelity profile embeds for a file, from its own header. */
async function headerFields(file: string): Promise<Record<string, string>> {
  const opened = await openDicomImage(new Uint8Array(fs.readFileSync(file)), {
    purpose: 'extract',
  });
  if (opened.kind !== 'image') throw new Error(`[${file}] reopened as ${opened.reason}`);
  return Object.fromEntries(
    identityRecordOf(opened.image.header, undefined, new Date(0), '').fields,
  );
}

/** Runs the two commands in `workDir` (key ring, outputs); the caller removes it. */
export async function runFormatsThroughCli(workDir: string): Promise<CliBatchRun> {
  const key = path.join(workDir, 'keys.json');
  const keygen = await runCli(['keygen', '--out', key]);
  if (keygen.code !== 0) throw new Error(`keygen failed: ${keygen.stderr}`);
  const keyId = (JSON.parse(keygen.stdout) as { activeKeyId: string }).activeKeyId;
  const outDir = path.join(workDir, 'out');
  const common = ['--key', key];
  const embedRun = await runCli(['embed', '--out-dir', outDir, FORMATS_DIR, ...common]);
  const embedLines = ndjson<EmbedLine>(embedRun.stdout);
  const embedded = embedLines.filter((l) => l.outcome === 'embedded');
  const extractRun =
    embedded.length === 0
      ? undefined
      : await runCli(['extract', ...embedded.map((l) => l.output ?? ''), ...common]);
  const extracted = new Map(
    ndjson<ExtractLine>(extractRun?.stdout ?? '').map((l) => [l.file, l] as const),
  );
  const files: CliFileOutcome[] = [];
  for (const line of embedLines) {
    const file = path.relative(FORMATS_DIR, line.file);
    if (line.outcome !== 'embedded') {
      files.push({ file, embed: line });
      continue;
    }
    const x = extracted.get(line.output ?? '');
    const exact =
      x?.outcome === 'extracted' &&
      x.framesAgree === true &&
      x.framesWithPayload === x.frames &&
      x.keyId === keyId &&
      x.identity?.kind === 'record' &&
      JSON.stringify(x.identity.fields) === JSON.stringify(await headerFields(line.file));
    files.push({ file, embed: line, ...(x === undefined ? {} : { extract: x }), exact });
  }
  return { keyId, outDir, embedRun, extractRun, files };
}

export function makeWorkDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cli-formats-'));
}

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** The row label of a file's outcome in the totals. */
function label(o: CliFileOutcome): [outcome: string, detail: string] {
  const e = o.embed;
  switch (e.outcome) {
    case 'embedded': {
      const converted =
        e.output !== undefined &&
        e.transferSyntaxUid === EXPLICIT_LE &&
        walkPart10(new Uint8Array(fs.readFileSync(path.join(FORMATS_DIR, o.file))))
          .transferSyntaxUid !== EXPLICIT_LE;
      const how = converted ? 'stored as Explicit VR Little Endian' : 'in its own transfer syntax';
      return [
        o.exact === true
          ? 'embedded, extracted exactly (every frame)'
          : '**embedded, extraction differs**',
        how,
      ];
    }
    case 'passthrough':
      return ['passthrough (byte-identical copy)', `\`${e.reason ?? '?'}\` (${e.code ?? '?'})`];
    case 'failed':
      return ['failed', `\`${e.code ?? '?'}\``];
  }
}

/** Counts per outcome and code, most frequent first within each outcome, as a markdown table. */
export function cliTotalsTable(files: readonly CliFileOutcome[]): string {
  const counts = new Map<string, { outcome: string; detail: string; n: number }>();
  for (const f of files) {
    const [outcome, detail] = label(f);
    const k = `${outcome}|${detail}`;
    const c = counts.get(k) ?? { outcome, detail, n: 0 };
    counts.set(k, { ...c, n: c.n + 1 });
  }
  const order = (o: string): number =>
    o.includes('embedded') ? 0 : o.startsWith('passthrough') ? 1 : o === 'failed' ? 2 : 3;
  const rows = [...counts.values()].sort(
    (a, b) => order(a.outcome) - order(b.outcome) || b.n - a.n || a.detail.localeCompare(b.detail),
  );
  return [
    '| CLI outcome | Code / detail | Files |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.outcome} | ${r.detail} | ${r.n} |`),
    `| all | | ${files.length} |`,
  ].join('\n');
}

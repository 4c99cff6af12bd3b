import type { ExtractIdentityOptions } from '../../pipeline';
import type { ProfileName } from '../../stego/profiles';
import type { KeyRing } from '../../stego/key-ring';
import type { Segmenter, SegmenterName } from '../../segmentation/segmenter';
import { anyDirectory, batchResult, failedLine, listBatchInputs, printLine } from '../batch';
import { keyRingFor, printJson, readInputFile, withSegmenter } from '../cli-io';

/** The options shared by extract and verify. */
export interface ReadOptions {
  readonly key?: string;
  readonly profile?: ProfileName;
  readonly margin: number;
  readonly segmenter?: SegmenterName;
  readonly beta?: number;
  readonly fields?: string[];
  readonly ndjson?: boolean;
}

/** What extract and verify pass to the pipeline for one file. */
export function pipelineReadOptions(
  segmenter: Segmenter,
  keyRing: KeyRing | undefined,
  options: ReadOptions,
): ExtractIdentityOptions {
  return {
    segmenter,
    marginPx: options.margin,
    ...(keyRing === undefined ? {} : { keyRing }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.beta === undefined ? {} : { beta: options.beta }),
    ...(options.fields === undefined ? {} : { identityFields: options.fields }),
  };
}

/** Reads one file's payload into the JSON the command prints; throws a coded error. */
export type ReadOne = (
  bytes: Uint8Array,
  segmenter: Segmenter,
  keyRing: KeyRing | undefined,
  options: ReadOptions,
) => Promise<Record<string, unknown>>;

/**
 * extract / verify over their inputs. One file (and no --ndjson): one JSON document, and the
 * file's error on stderr with its exit code, as the command always did. Several files, a folder, or
 * --ndjson: one line per file, `{"file", "outcome": <done> | "failed", ...}`, with one segmenter
 * session and one key ring, and exit 5 (SOME_FILES_FAILED) when any file failed.
 */
export async function runReading(
  inputs: readonly string[],
  options: ReadOptions,
  done: 'extracted' | 'verified',
  readOne: ReadOne,
): Promise<void> {
  const keyRing =
    options.key === undefined ? undefined : await keyRingFor(options.key, options.profile);
  const [single] = inputs;
  if (
    single !== undefined &&
    inputs.length === 1 &&
    options.ndjson !== true &&
    !(await anyDirectory(inputs))
  ) {
    const bytes = await readInputFile(single);
    printJson(
      await withSegmenter(options.segmenter, (segmenter) =>
        readOne(bytes, segmenter, keyRing, options),
      ),
    );
    return;
  }
  const entries = await listBatchInputs(inputs);
  let failed = 0;
  await withSegmenter(options.segmenter, async (segmenter) => {
    for (const entry of entries) {
      let line: Record<string, unknown>;
      if (!entry.ok) line = failedLine(entry.file, entry.error);
      else {
        const { file } = entry.input;
        try {
          const json = await readOne(await readInputFile(file), segmenter, keyRing, options);
          line = { file, outcome: done, ...json };
        } catch (error) {
          line = failedLine(file, error);
        }
      }
      if (line['outcome'] === 'failed') failed++;
      printLine(line);
    }
  });
  batchResult(failed, entries.length);
}

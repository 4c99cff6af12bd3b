import fs from 'node:fs/promises';
import path from 'node:path';
import { passthroughReasonOf } from '../../dicom';
import { embedIdentity, type EmbedIdentityOptions } from '../../pipeline';
import { cliError } from '../cli-error';
import { keyRingFor, readInputFile, withSegmenter, writeFileAtomic } from '../cli-io';
import { batchResult, failedLine, listBatchInputs, outputPaths, printLine } from '../batch';
import { embedSettings, type EmbedOptions } from './embed-options';

async function writeOutput(output: string, bytes: Uint8Array): Promise<void> {
  try {
    await fs.mkdir(path.dirname(output), { recursive: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw cliError('OUTPUT_UNWRITABLE', `cannot create [${path.dirname(output)}] (${code})`, cause);
  }
  await writeFileAtomic(output, bytes);
}

/**
 * One file of a batch: embedded; or, for a non-image or lossy pixels (the gateway's passthrough,
 * src/gateway/identity/identity-operations.ts), copied byte-identical with its reason; or failed
 * with its code (nothing written). Never throws.
 */
async function embedOne(
  file: string,
  output: string,
  settings: EmbedIdentityOptions,
): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(file);
  } catch (error) {
    return failedLine(file, error);
  }
  let result: Awaited<ReturnType<typeof embedIdentity>>;
  try {
    result = await embedIdentity(bytes, settings);
  } catch (error) {
    const reason = passthroughReasonOf(error);
    if (reason === undefined) return failedLine(file, error);
    try {
      await writeOutput(output, bytes);
    } catch (writeError) {
      return failedLine(file, writeError);
    }
    const { code, message } = failedLine(file, error);
    return { file, outcome: 'passthrough', code, reason, message, output };
  }
  try {
    await writeOutput(output, result.bytes);
  } catch (error) {
    return failedLine(file, error);
  }
  const { report } = result;
  return {
    file,
    outcome: 'embedded',
    output,
    transferSyntaxUid: result.transferSyntaxUid,
    ...(result.warnings.length === 0 ? {} : { warnings: result.warnings }),
    profile: report.profile,
    keyId: report.keyId,
    payloadBits: report.payloadBits,
    frames: report.summary.frames,
    changedPixels: report.summary.changedPixels,
    psnrBitsStored: report.summary.psnrBitsStored,
    stable: report.summary.stable,
  };
}

/**
 * `embed --out-dir DIR IN...`: every file of the inputs (folders recursively) through one segmenter
 * session and one key ring, one NDJSON line per file as it is done. Refused before any file is
 * read: a bad key ring or payload file, an output that would be its own input or another's.
 */
export async function runEmbedBatch(
  inputs: readonly string[],
  outDir: string,
  options: EmbedOptions,
): Promise<void> {
  const keyRing = await keyRingFor(options.key, options.profile);
  const payload =
    options.payloadFile === undefined ? undefined : await readInputFile(options.payloadFile);
  // An output folder inside an input folder is not read back as input.
  const entries = await listBatchInputs(inputs, new Set([path.resolve(outDir)]));
  const outputs = outputPaths(entries, outDir);
  let failed = 0;
  await withSegmenter(options.segmenter, async (segmenter) => {
    const settings = embedSettings(options, segmenter, keyRing, payload);
    for (const entry of entries) {
      const line = entry.ok
        ? await embedOne(entry.input.file, outputs.get(entry.input.file) ?? '', settings)
        : failedLine(entry.file, entry.error);
      if (line['outcome'] === 'failed') failed++;
      printLine(line);
    }
  });
  batchResult(failed, entries.length);
}

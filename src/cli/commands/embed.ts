import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { LossyPolicy } from '../../dicom';
import { embedIdentity } from '../../pipeline';
import { DEFAULT_MARGIN_PX } from '../../stego/block-map';
import { cliError } from '../cli-error';
import {
  keyRingFor,
  parseFieldList,
  parseNonNegativeInteger,
  parsePositiveNumber,
  parseProfile,
  parseSegmenterName,
  printJson,
  readInputFile,
  withSegmenter,
  writeFileAtomic,
} from '../cli-io';
import { runEmbedBatch } from './embed-batch';
import { embedSettings, type EmbedOptions } from './embed-options';

export async function runEmbed(
  input: string,
  output: string,
  options: EmbedOptions,
): Promise<void> {
  if (path.resolve(input) === path.resolve(output)) {
    throw cliError('OUTPUT_IS_INPUT', `the output [${output}] would overwrite the input`);
  }
  const keyRing = await keyRingFor(options.key, options.profile);
  const bytes = await readInputFile(input);
  const payload =
    options.payloadFile === undefined ? undefined : await readInputFile(options.payloadFile);
  const result = await withSegmenter(options.segmenter, (segmenter) =>
    embedIdentity(bytes, embedSettings(options, segmenter, keyRing, payload)),
  );
  await writeFileAtomic(output, result.bytes);
  printJson({ output, ...result.report });
}

function parseLossyPolicy(value: string): LossyPolicy {
  if (value !== 'passthrough' && value !== 'store-explicit-le') {
    throw new InvalidArgumentError('expected passthrough or store-explicit-le');
  }
  return value;
}

export function embedCommand(): Command {
  return new Command('embed')
    .description(
      'hide the identity record (or a payload) in the background of a DICOM image; with --out-dir, ' +
        'of many files and folders in one run, one JSON line per file',
    )
    .usage('[options] <in> <out>\n       stego-gateway embed [options] --out-dir <dir> <in...>')
    .argument(
      '<paths...>',
      'input DICOM file (never modified) and output file; with --out-dir: input files and folders',
    )
    .option('--key <keyfile>', 'key ring file (required by fidelity and robust)')
    .option('--profile <name>', 'paper | fidelity | robust', parseProfile, 'fidelity')
    .option('--payload-file <file>', 'embed these bytes instead of the identity record')
    .option(
      '--margin <px>',
      'safety margin around the body',
      parseNonNegativeInteger,
      DEFAULT_MARGIN_PX,
    )
    .option('--segmenter <name>', 'onnx-maskrcnn (default) | threshold', parseSegmenterName)
    .option('--beta <beta>', "paper profile: the quantiser's beta", parsePositiveNumber)
    .option(
      '--fields <keywords>',
      'identity record fields (default: the standard list)',
      parseFieldList,
    )
    .option(
      '--out-dir <dir>',
      'batch: write each input to <dir>/<its path below the folder given, or its name>; ' +
        'non-images and lossy images are copied byte-identical ("passthrough")',
    )
    .option(
      '--lossy-policy <policy>',
      'lossy input: passthrough (default; refused without --out-dir) | store-explicit-le ' +
        '(embedded, stored as Explicit VR Little Endian)',
      parseLossyPolicy,
    )
    .addHelpText(
      'after',
      `
With --out-dir, one JSON line per file on stdout, as each is done:
  {"file", "outcome": "embedded", "output", "transferSyntaxUid", "warnings"?, ...}
  {"file", "outcome": "passthrough", "code", "reason", "message", "output"}  (byte-identical copy)
  {"file", "outcome": "failed", "code", "message"}                          (nothing written)
Exit 0 when every file was embedded or passed through, 5 (SOME_FILES_FAILED) otherwise.`,
    )
    .action(async (paths: string[], options: EmbedOptions) => {
      if (options.outDir !== undefined) return runEmbedBatch(paths, options.outDir, options);
      const [input, output, ...rest] = paths;
      if (input === undefined || output === undefined || rest.length > 0) {
        throw cliError(
          'USAGE',
          'expected <in> <out>, or --out-dir <dir> followed by input files and folders',
        );
      }
      return runEmbed(input, output, options);
    });
}

import path from 'node:path';
import { Command } from 'commander';
import { embedIdentity } from '../../pipeline';
import type { SegmenterName } from '../../segmentation/segmenter';
import { DEFAULT_MARGIN_PX } from '../../stego/block-map';
import type { ProfileName } from '../../stego/profiles';
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

interface EmbedOptions {
  readonly key?: string;
  readonly profile: ProfileName;
  readonly payloadFile?: string;
  readonly margin: number;
  readonly segmenter?: SegmenterName;
  readonly beta?: number;
  readonly fields?: string[];
}

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
    embedIdentity(bytes, {
      profile: options.profile,
      segmenter,
      marginPx: options.margin,
      ...(keyRing === undefined ? {} : { keyRing }),
      ...(payload === undefined ? {} : { payload }),
      ...(options.beta === undefined ? {} : { beta: options.beta }),
      ...(options.fields === undefined ? {} : { identityFields: options.fields }),
    }),
  );
  await writeFileAtomic(output, result.bytes);
  printJson({ output, ...result.report });
}

export function embedCommand(): Command {
  return new Command('embed')
    .description('hide the identity record (or a payload) in the background of a DICOM image')
    .argument('<in>', 'input DICOM file (never modified)')
    .argument('<out>', 'output DICOM file')
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
    .action(async (input: string, output: string, options: EmbedOptions) =>
      runEmbed(input, output, options),
    );
}

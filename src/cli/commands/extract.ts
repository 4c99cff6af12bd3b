import { Command } from 'commander';
import { extractIdentity, type ExtractFailure, type HiddenIdentity } from '../../pipeline';
import type { Segmenter } from '../../segmentation/segmenter';
import type { KeyRing } from '../../stego/key-ring';
import { DEFAULT_MARGIN_PX } from '../../stego/block-map';
import { cliError } from '../cli-error';
import {
  parseFieldList,
  parseNonNegativeInteger,
  parsePositiveNumber,
  parseProfile,
  parseSegmenterName,
} from '../cli-io';
import { pipelineReadOptions, runReading, type ReadOptions } from './read-batch';

export type { ReadOptions } from './read-batch';

/** The error for an extraction that found nothing usable (exit 2 or 3). */
export function extractionError(reason: ExtractFailure, message: string): Error {
  switch (reason) {
    case 'wrong-key':
      return cliError(
        'WRONG_KEY',
        `a payload is present but no key of the ring opens it: ${message}`,
      );
    case 'corrupted':
      return cliError(
        'PAYLOAD_CORRUPTED',
        `a payload is present but cannot be recovered: ${message}`,
      );
    case 'no-payload':
      return cliError('NO_PAYLOAD', `no hidden payload found: ${message}`);
  }
}

function identityJson(identity: HiddenIdentity, payload: Uint8Array): Record<string, unknown> {
  switch (identity.kind) {
    case 'record':
      return {
        kind: 'record',
        fields: Object.fromEntries(identity.record.fields),
        embeddedAt: identity.record.embeddedAt,
        keyId: identity.record.keyId,
      };
    case 'text':
      return { kind: 'text', fields: Object.fromEntries(identity.fields), text: identity.text };
    case 'compact':
      return {
        kind: 'compact',
        PatientID: identity.patientId,
        keyId: identity.keyId,
        digestMatchesHeader: identity.digestMatches,
      };
    case 'bytes':
      return { kind: 'bytes', base64: Buffer.from(payload).toString('base64') };
  }
}

/** The extraction of one file as the JSON the command prints; throws a coded error. */
export async function extractJson(
  bytes: Uint8Array,
  segmenter: Segmenter,
  keyRing: KeyRing | undefined,
  options: ReadOptions,
): Promise<Record<string, unknown>> {
  const result = await extractIdentity(bytes, pipelineReadOptions(segmenter, keyRing, options));
  if (!result.ok) throw extractionError(result.reason, result.message);
  const first = result.frames.find((f) => f.ok);
  return {
    profile: result.profile,
    keyId: result.keyId,
    payloadBytes: result.payload.length,
    frames: result.frames.length,
    framesWithPayload: result.frames.filter((f) => f.ok).length,
    framesAgree: result.framesAgree,
    correctedSymbols: first?.ok === true ? first.correctedSymbols : 0,
    ...(first?.ok === true && first.qrNcc !== undefined ? { qrNcc: first.qrNcc } : {}),
    identity: identityJson(result.identity, result.payload),
  };
}

/** The options shared by extract and verify. */
export function readingCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .argument(
      '<in...>',
      'DICOM file with a hidden payload; several files or folders: one JSON line per file',
    )
    .option('--key <keyfile>', 'key ring file (every key is tried)')
    .option(
      '--profile <name>',
      'paper | fidelity | robust (default: found by itself)',
      parseProfile,
    )
    .option(
      '--margin <px>',
      'safety margin used at embedding',
      parseNonNegativeInteger,
      DEFAULT_MARGIN_PX,
    )
    .option('--segmenter <name>', 'onnx-maskrcnn (default) | threshold', parseSegmenterName)
    .option('--beta <beta>', "paper profile: the quantiser's beta", parsePositiveNumber)
    .option('--fields <keywords>', 'robust: the identity fields the digest covers', parseFieldList)
    .option('--ndjson', 'one JSON line per file even for a single file');
}

export function extractCommand(): Command {
  return readingCommand(
    'extract',
    'print the hidden identity record (or the payload, base64)',
  ).action(async (inputs: string[], options: ReadOptions) =>
    runReading(inputs, options, 'extracted', extractJson),
  );
}

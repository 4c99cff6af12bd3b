import { Command } from 'commander';
import { verifyIdentity } from '../../pipeline';
import type { Segmenter } from '../../segmentation/segmenter';
import type { KeyRing } from '../../stego/key-ring';
import { cliError } from '../cli-error';
import { extractionError, readingCommand, type ReadOptions } from './extract';
import { pipelineReadOptions, runReading } from './read-batch';

/** The verification of one file as the JSON the command prints; throws a coded error. */
export async function verifyJson(
  bytes: Uint8Array,
  segmenter: Segmenter,
  keyRing: KeyRing | undefined,
  options: ReadOptions,
): Promise<Record<string, unknown>> {
  const result = await verifyIdentity(bytes, pipelineReadOptions(segmenter, keyRing, options));
  if (!result.ok) {
    if (result.reason === 'not-identity') throw cliError('NOT_IDENTITY', result.message);
    throw extractionError(result.reason, result.message);
  }
  // Field names and agreement only: the values are patient data (extract prints them on request).
  return {
    profile: result.profile,
    keyId: result.keyId,
    agrees: result.agrees,
    fields: result.fields.map((f) => ({
      field: f.field,
      agrees: f.agrees,
      ...(f.hidden === null ? { carried: false } : {}),
    })),
    ...(result.digestMatches === undefined ? {} : { digestMatches: result.digestMatches }),
    ...(result.embeddedAt === undefined ? {} : { embeddedAt: result.embeddedAt }),
    framesAgree: result.framesAgree,
  };
}

export function verifyCommand(): Command {
  return readingCommand(
    'verify',
    'check, field by field, that the hidden identity matches the header',
  ).action(async (inputs: string[], options: ReadOptions) =>
    runReading(inputs, options, 'verified', verifyJson),
  );
}

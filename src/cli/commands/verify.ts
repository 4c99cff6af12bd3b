import { Command } from 'commander';
import { verifyIdentity } from '../../pipeline';
import { cliError } from '../cli-error';
import { keyRingFor, printJson, readInputFile, withSegmenter } from '../cli-io';
import { extractionError, readingCommand, type ReadOptions } from './extract';

export async function runVerify(input: string, options: ReadOptions): Promise<void> {
  const keyRing =
    options.key === undefined ? undefined : await keyRingFor(options.key, options.profile);
  const bytes = await readInputFile(input);
  const result = await withSegmenter(options.segmenter, (segmenter) =>
    verifyIdentity(bytes, {
      segmenter,
      marginPx: options.margin,
      ...(keyRing === undefined ? {} : { keyRing }),
      ...(options.profile === undefined ? {} : { profile: options.profile }),
      ...(options.beta === undefined ? {} : { beta: options.beta }),
      ...(options.fields === undefined ? {} : { identityFields: options.fields }),
    }),
  );
  if (!result.ok) {
    if (result.reason === 'not-identity') throw cliError('NOT_IDENTITY', result.message);
    throw extractionError(result.reason, result.message);
  }
  // Field names and agreement only: the values are patient data (extract prints them on request).
  printJson({
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
  });
}

export function verifyCommand(): Command {
  return readingCommand(
    'verify',
    'check, field by field, that the hidden identity matches the header',
  ).action(async (input: string, options: ReadOptions) => runVerify(input, options));
}

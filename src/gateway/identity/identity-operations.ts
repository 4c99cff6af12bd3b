/**
 * The gateway's two uses of the embedding pipeline, as plain functions of their inputs, so that they
 * run the same in the event loop's thread and in a worker thread (embed-worker.ts): embed one
 * instance as a rule says, and inspect one instance for an auditor (extract + verify).
 */
import { passthroughReasonOf } from '../../dicom';
import { embedIdentity, extractIdentity, verifyIdentity } from '../../pipeline';
import type { Segmenter, SegmenterName } from '../../segmentation/segmenter';
import { StegoGatewayError } from '../../stego/errors';
import type { KeyRing } from '../../stego/key-ring';
import { deriveUidEdits } from '../rules/derive-uid-edits';
import { applyDerivedEdits, originalAttributesJson } from '../stow/derive-instance';
import { readInstanceHeader } from '../stow/read-instance-header';
import { FailureReason } from '../stow/store-instances-response';
import type {
  EmbedInstanceOutcome,
  EmbedInstanceRequest,
  IdentityInspection,
} from './identity-engine';

export interface OperationContext {
  readonly keyRing: KeyRing;
  /** The segmenter of that name (created once and reused by the caller). */
  readonly segmenter: (name: SegmenterName) => Promise<Segmenter>;
}

export interface InspectOptions {
  /** Tried first; the others follow when it finds nothing (a rule may have used another). */
  readonly segmenters: readonly SegmenterName[];
  readonly marginPx: number;
}

/** PS3.18 Table I.2-2 reason for a pipeline / DICOM adapter error code. */
export function failureReasonFor(code: string): number {
  switch (code) {
    case 'NOT_DICOM':
    case 'TRUNCATED_FILE':
    case 'MALFORMED_DICOM':
      return FailureReason.CannotUnderstand;
    case 'NOT_AN_IMAGE':
      return FailureReason.SopClassNotSupported;
    case 'UNSUPPORTED_TRANSFER_SYNTAX':
      return FailureReason.TransferSyntaxNotSupported;
    case 'MODEL_UNAVAILABLE':
      return FailureReason.OutOfResources;
    default:
      return FailureReason.ProcessingFailure;
  }
}

function failure(error: unknown): Extract<EmbedInstanceOutcome, { ok: false }> {
  const code = error instanceof StegoGatewayError ? error.code : 'EMBED_FAILED';
  // Pipeline messages name values in brackets but never patient attributes (STYLE.md).
  const message = error instanceof StegoGatewayError ? error.message : 'embedding failed';
  const passthrough = passthroughReasonOf(error);
  return {
    ok: false,
    code,
    message,
    failureReason: failureReasonFor(code),
    ...(passthrough === undefined ? {} : { passthrough }),
  };
}

export async function embedOperation(
  bytes: Uint8Array,
  request: EmbedInstanceRequest,
  context: OperationContext,
): Promise<EmbedInstanceOutcome> {
  let input = bytes;
  let derived: Pick<
    Extract<EmbedInstanceOutcome, { ok: true }>,
    'derivedSopInstanceUid' | 'originalAttributes'
  > = {};
  if (request.uidPolicy === 'derive') {
    // The header is edited first, so that the embedded record names the new SOP Instance UID.
    const read = readInstanceHeader(bytes);
    if (!read.ok) return failure(new StegoGatewayError('NOT_DICOM', read.message));
    const edits = deriveUidEdits({
      sopClassUid: read.header.sopClassUid,
      sopInstanceUid: read.header.sopInstanceUid,
      ...(read.header.attribute('ImageType') === undefined
        ? {}
        : { imageType: (read.header.attribute('ImageType') ?? '').split('\\') }),
      profile: request.profile,
      keyId: context.keyRing.activeKeyId,
      at: new Date(),
    });
    const edited = applyDerivedEdits(bytes, edits);
    if (!edited.ok) {
      return {
        ok: false,
        code: 'EMBED_DERIVE_UNSUPPORTED',
        message: edited.message,
        failureReason: FailureReason.ProcessingFailure,
      };
    }
    input = edited.bytes;
    derived = {
      derivedSopInstanceUid: edits.SOPInstanceUID,
      originalAttributes: [originalAttributesJson(edits)],
    };
  }
  try {
    const segmenter = await context.segmenter(request.segmenter);
    const result = await embedIdentity(input, {
      profile: request.profile,
      keyRing: context.keyRing,
      segmenter,
      marginPx: request.marginPx,
      ...(request.identityFields === undefined ? {} : { identityFields: request.identityFields }),
      ...(request.lossyPolicy === undefined ? {} : { lossyPolicy: request.lossyPolicy }),
    });
    const frames = result.report.frames;
    return {
      ok: true,
      bytes: result.bytes,
      profile: result.report.profile,
      keyId: result.report.keyId,
      ...derived,
      report: {
        segmenter: result.report.segmenter,
        marginPx: result.report.marginPx,
        payloadBits: result.report.payloadBits,
        frames: frames.length,
        changedPixels: frames.reduce((n, f) => n + f.changedPixels, 0),
        minPsnrBitsStored: Math.min(...frames.map((f) => f.psnrBitsStored)),
        stable: frames.every((f) => f.stable),
      },
      transferSyntaxUid: result.transferSyntaxUid,
      warnings: result.warnings,
    };
  } catch (error) {
    return failure(error);
  }
}

export async function inspectOperation(
  bytes: Uint8Array,
  options: InspectOptions,
  context: OperationContext,
): Promise<IdentityInspection> {
  let last: IdentityInspection = {
    payloadPresent: false,
    result: 'no-payload',
    message: 'no segmenter to try',
  };
  for (const name of options.segmenters) {
    try {
      const segmenter = await context.segmenter(name);
      const common = { keyRing: context.keyRing, segmenter, marginPx: options.marginPx };
      const verified = await verifyIdentity(bytes, common);
      if (verified.ok) {
        const extracted = await extractIdentity(bytes, { ...common, profile: verified.profile });
        const correctedSymbols = extracted.frames.reduce(
          (n, f) => n + (f.ok ? f.correctedSymbols : 0),
          0,
        );
        return {
          payloadPresent: true,
          result: verified.agrees ? 'match' : 'mismatch',
          profile: verified.profile,
          ...(verified.keyId === null ? {} : { keyId: verified.keyId }),
          correctedSymbols,
          identity: Object.fromEntries(verified.fields.map((f) => [f.field, f.hidden])),
          fields: verified.fields,
        };
      }
      last =
        verified.reason === 'not-identity'
          ? { payloadPresent: true, result: 'failed', message: verified.message }
          : {
              payloadPresent: verified.reason !== 'no-payload',
              result: verified.reason,
              message: verified.message,
            };
      // A wrong key will not get better with another segmenter.
      if (verified.reason === 'wrong-key') return last;
    } catch (error) {
      const code = error instanceof StegoGatewayError ? error.code : 'EXTRACT_FAILED';
      const message = error instanceof StegoGatewayError ? error.message : 'extraction failed';
      last = { payloadPresent: false, result: 'failed', message: `${code}: ${message}` };
      if (error instanceof StegoGatewayError && error.code !== 'MODEL_UNAVAILABLE') return last;
    }
  }
  return last;
}

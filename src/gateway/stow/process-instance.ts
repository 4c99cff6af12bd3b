/**
 * One STOW-RS instance, start to end: read its header, check it against the URL, match the rules,
 * embed / pass through / reject, store in the rule's Orthanc, audit. Never throws: every way an
 * instance can fail ends as a FailedSOPSequence entry with the most fitting PS3.18 Failure Reason.
 */
import type { Logger } from 'pino';

import type { AuditStore, StoreOutcome } from '../audit/types';
import type { Principal } from '../auth/types';
import type { PassthroughReason } from '../../dicom';
import type { EmbedInstanceOutcome, IdentityEngine } from '../identity/identity-engine';
import type { GatewayMetrics } from '../metrics';
import type { OrthancClient } from '../orthanc/orthanc-client';
import { matchRule } from '../rules/match-rule';
import type { MatchResult, RuleSet } from '../rules/types';
import { readInstanceHeader } from './read-instance-header';
import type { MultipartPart } from './read-multipart';
import { FailureReason, WarningReason } from './store-instances-response';
import type { FailedInstance, ReferencedInstance } from './store-instances-response';

export interface StowDependencies {
  readonly upstreams: ReadonlyMap<string, OrthancClient>;
  readonly defaultUpstream: string;
  readonly rules: () => RuleSet;
  readonly engine: IdentityEngine;
  readonly audit: AuditStore;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface StowRequestContext {
  readonly caller: Principal;
  /** The `{study}` of POST /studies/{study}, if any. */
  readonly studyUidFromUrl: string | undefined;
  /** The gateway's public URL of a stored instance (RetrieveURL). */
  readonly retrieveUrl: (study: string, series: string, sop: string) => string;
}

export type InstanceResult =
  | {
      readonly stored: true;
      readonly referenced: ReferencedInstance;
      readonly studyInstanceUid: string;
      /** Text for the HTTP Warning header (original stored without identity, syntax changed). */
      readonly warning?: string;
    }
  | { readonly stored: false; readonly failed: FailedInstance; readonly code: string };

const DICOM_MEDIA_TYPES = new Set(['application/dicom', 'application/octet-stream']);

/**
 * Text for the HTTP Warning header: printable ASCII only (messages may name values read from the
 * file, and a control character in a header value would fail the whole answer), bounded.
 */
function warningText(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 400 ? `${printable.slice(0, 397)}...` : printable;
}

/** The audit detail of an instance stored as sent by policy (docs/errors.md). */
const PASSTHROUGH_DETAIL: Readonly<Record<PassthroughReason, string>> = Object.freeze({
  'not-an-image': 'PASSTHROUGH_NOT_AN_IMAGE',
  'lossy-compression': 'PASSTHROUGH_LOSSY',
  'lossy-undecodable': 'PASSTHROUGH_LOSSY_UNDECODABLE',
});

export async function processInstance(
  part: MultipartPart,
  context: StowRequestContext,
  deps: StowDependencies,
): Promise<InstanceResult> {
  try {
    return await processInstanceOrThrow(part, context, deps);
  } catch (error) {
    // A bug must cost one instance, never the request or the process.
    deps.metrics.instances.inc({ outcome: 'failed' });
    deps.logger.error(
      {
        part: part.index,
        code: 'STOW_INTERNAL_ERROR',
        err: error instanceof Error ? error.name : 'unknown',
      },
      'instance processing failed',
    );
    return {
      stored: false,
      failed: {
        sopClassUid: '',
        sopInstanceUid: '',
        failureReason: FailureReason.ProcessingFailure,
      },
      code: 'STOW_INTERNAL_ERROR',
    };
  }
}

async function processInstanceOrThrow(
  part: MultipartPart,
  context: StowRequestContext,
  deps: StowDependencies,
): Promise<InstanceResult> {
  const unknownUids = { sopClassUid: '', sopInstanceUid: '' };
  const log = deps.logger.child({ part: part.index });
  const fail = async (
    code: string,
    failureReason: number,
    uids: { sopClassUid: string; sopInstanceUid: string },
    audit: {
      outcome: StoreOutcome;
      match?: MatchResult;
      study?: string;
      series?: string;
      destination?: string;
    },
  ): Promise<InstanceResult> => {
    deps.metrics.instances.inc({ outcome: audit.outcome });
    log.info(
      { code, failureReason, outcome: audit.outcome, rule: audit.match?.ruleName },
      'instance not stored',
    );
    await record(deps, log, {
      outcome: audit.outcome,
      rule: audit.match?.ruleName ?? null,
      profile: null,
      keyId: null,
      studyUid: audit.study ?? null,
      seriesUid: audit.series ?? null,
      sopUid: uids.sopInstanceUid === '' ? null : uids.sopInstanceUid,
      caller: context.caller.subject,
      failureReason,
      ...(audit.destination === undefined ? {} : { destination: audit.destination }),
      detail: code,
      at: new Date(),
    });
    return { stored: false, failed: { ...uids, failureReason }, code };
  };

  if (part.bytes === undefined) {
    return fail('STOW_PART_TOO_LARGE', FailureReason.OutOfResources, unknownUids, {
      outcome: 'failed',
    });
  }
  if (part.contentType !== undefined && !DICOM_MEDIA_TYPES.has(part.contentType)) {
    return fail('STOW_PART_MEDIA_TYPE', FailureReason.CannotUnderstand, unknownUids, {
      outcome: 'failed',
    });
  }
  const read = readInstanceHeader(part.bytes);
  if (!read.ok) {
    return fail(
      `STOW_PART_${read.reason.toUpperCase().replace('-', '_')}`,
      FailureReason.CannotUnderstand,
      unknownUids,
      {
        outcome: 'failed',
      },
    );
  }
  const header = read.header;
  const uids = { sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid };
  const where = { study: header.studyInstanceUid, series: header.seriesInstanceUid };
  if (
    context.studyUidFromUrl !== undefined &&
    context.studyUidFromUrl !== header.studyInstanceUid
  ) {
    // PS3.18 10.5.1: instances of another study than the target URL's are not stored. 0x0110 as
    // Orthanc's own STOW-RS answers.
    return fail('STOW_STUDY_UID_MISMATCH', FailureReason.ProcessingFailure, uids, {
      outcome: 'failed',
      ...where,
    });
  }

  const match = matchRule(deps.rules(), {
    attributes: (keyword) => header.attribute(keyword),
    caller: { subject: context.caller.subject, roles: context.caller.roles },
  });
  const destination = match.destination ?? deps.defaultUpstream;
  const upstream = deps.upstreams.get(destination);
  if (upstream === undefined) {
    return fail('STOW_UNKNOWN_DESTINATION', FailureReason.ProcessingFailure, uids, {
      outcome: 'failed',
      match,
      ...where,
    });
  }
  const action = match.action;
  if (action.type === 'reject') {
    return fail('STOW_REJECTED_BY_RULE', action.failureReason, uids, {
      outcome: 'rejected',
      match,
      destination,
      ...where,
    });
  }

  let bytes: Uint8Array = part.bytes;
  let outcome: StoreOutcome = 'passthrough';
  let profile: string | null = null;
  let keyId: string | null = null;
  let sopInstanceUid = header.sopInstanceUid;
  let originalAttributes: readonly Readonly<Record<string, unknown>>[] | undefined;
  let warning: string | undefined;
  let warningReason: number | undefined;
  let detail: string | undefined;
  if (action.type === 'embed') {
    const stopTimer = deps.metrics.embedSeconds.startTimer({ profile: action.profile });
    const embedded: EmbedInstanceOutcome = await deps.engine
      .embed(part.bytes, {
        profile: action.profile,
        segmenter: action.segmenter,
        marginPx: action.marginPx,
        uidPolicy: action.uidPolicy,
        ...(action.identityFields === undefined ? {} : { identityFields: action.identityFields }),
        ...(action.lossyPolicy === undefined ? {} : { lossyPolicy: action.lossyPolicy }),
      })
      .catch((error: unknown) => ({
        ok: false as const,
        code: 'EMBED_FAILED',
        message: error instanceof Error ? error.message : String(error),
        failureReason: FailureReason.ProcessingFailure,
      }));
    stopTimer();
    if (embedded.ok) {
      bytes = embedded.bytes;
      outcome = 'embedded';
      profile = embedded.profile;
      keyId = embedded.keyId;
      sopInstanceUid = embedded.derivedSopInstanceUid ?? header.sopInstanceUid;
      originalAttributes = embedded.originalAttributes;
      if (embedded.transferSyntaxUid !== header.transferSyntaxUid) {
        // Big endian, deflated, or lossy input under lossyPolicy store-explicit-le (docs/formats.md).
        warningReason = WarningReason.Coercion;
        detail = 'STORED_AS_EXPLICIT_LE';
        warning = [
          `[${sopInstanceUid}] stored as transfer syntax [${embedded.transferSyntaxUid}], sent as [${header.transferSyntaxUid}]`,
          ...embedded.warnings,
        ].join('; ');
      } else if (embedded.warnings.length > 0) {
        warning = `[${sopInstanceUid}] ${embedded.warnings.join('; ')}`;
      }
    } else if (embedded.passthrough !== undefined) {
      // Not a failure: a non-image or lossy pixels are stored as sent by policy (docs/formats.md),
      // whatever onFailure says.
      detail = PASSTHROUGH_DETAIL[embedded.passthrough];
      warningReason = WarningReason.StoredWithoutIdentity;
      warning = `[${header.sopInstanceUid}] original stored unchanged, identity not embedded [${embedded.passthrough}]: ${embedded.message}`;
      log.info(
        { code: detail, rule: match.ruleName, transferSyntaxUid: header.transferSyntaxUid },
        'not embeddable by policy, storing the original',
      );
    } else if (action.onFailure === 'reject') {
      return fail(embedded.code, embedded.failureReason, uids, {
        outcome: 'rejected',
        match,
        destination,
        ...where,
      });
    } else {
      outcome = 'stored-original';
      detail = embedded.code;
      warningReason = WarningReason.StoredWithoutIdentity;
      warning = `[${header.sopInstanceUid}] identity not embedded [${embedded.code}], original stored`;
      log.warn(
        { code: embedded.code, rule: match.ruleName },
        'embedding failed, storing the original',
      );
    }
  }

  const stored = await upstream.storeInstance(bytes);
  if (!stored.ok) {
    deps.metrics.upstreamErrors.inc({ operation: 'store' });
    return fail(
      stored.kind === 'unavailable' ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_REFUSED',
      stored.kind === 'unavailable'
        ? FailureReason.OutOfResources
        : FailureReason.ProcessingFailure,
      uids,
      { outcome: 'failed', match, destination, ...where },
    );
  }
  // WADO-RS of this instance reads the stored file by its id (instance-file-relay.ts).
  upstream.rememberInstance(
    {
      studyInstanceUid: header.studyInstanceUid,
      seriesInstanceUid: header.seriesInstanceUid,
      sopInstanceUid,
    },
    stored.orthancId,
  );
  deps.metrics.instances.inc({ outcome });
  await record(deps, log, {
    outcome,
    rule: match.ruleName,
    profile,
    keyId,
    studyUid: header.studyInstanceUid,
    seriesUid: header.seriesInstanceUid,
    sopUid: sopInstanceUid,
    caller: context.caller.subject,
    destination,
    ...(detail === undefined ? {} : { detail }),
    at: new Date(),
  });
  const coerced =
    originalAttributes !== undefined && originalAttributes.length > 0
      ? { warningReason: WarningReason.Coercion, originalAttributes }
      : warningReason === undefined
        ? {}
        : { warningReason };
  return {
    stored: true,
    studyInstanceUid: header.studyInstanceUid,
    referenced: {
      sopClassUid: header.sopClassUid,
      sopInstanceUid,
      retrieveUrl: context.retrieveUrl(
        header.studyInstanceUid,
        header.seriesInstanceUid,
        sopInstanceUid,
      ),
      ...coerced,
    },
    ...(warning === undefined ? {} : { warning: warningText(warning) }),
  };
}

async function record(
  deps: StowDependencies,
  log: Logger,
  entry: Parameters<AuditStore['recordStore']>[0],
): Promise<void> {
  try {
    await deps.audit.recordStore(entry);
  } catch (error) {
    log.error(
      { code: 'AUDIT_WRITE_FAILED', err: error instanceof Error ? error.message : String(error) },
      'audit write failed',
    );
  }
}

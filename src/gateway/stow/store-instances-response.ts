/**
 * The PS3.18 Store Instances Response (10.5.3, Table 10.5.3-1) in DICOM JSON (PS3.18 F.2), and the
 * HTTP status that goes with it (PS3.18 10.5.3.1): 200 when every instance was stored without
 * warning, 202 when some failed or carry a warning, 409 when none was stored.
 */

/** PS3.18 Table I.2-2 Failure Reasons (values of (0008,1197)). */
export const FailureReason = Object.freeze({
  /** Refused: out of resources (and: upstream unavailable, part over the size limit). */
  OutOfResources: 0xa700,
  /** Error: data set does not match SOP class. */
  DataSetMismatch: 0xa900,
  /** Error: cannot understand. */
  CannotUnderstand: 0xc000,
  /** Processing failure (Orthanc's answer to a study UID that differs from the URL's). */
  ProcessingFailure: 0x0110,
  /** Refused: SOP class not supported. */
  SopClassNotSupported: 0x0122,
  /** Transfer syntax not supported. */
  TransferSyntaxNotSupported: 0xc122,
} as const);

/**
 * Warning Reasons (values of (0008,1196), PS3.18 I.2.1; the C-STORE warnings of PS3.4 Table B.2-1),
 * and one of the gateway's own: PS3.2 Annex J allows additional codes "to address the semantics of
 * other issues", and none of the standard ones says that an instance was stored exactly as sent.
 */
export const WarningReason = Object.freeze({
  /**
   * Coercion of data elements: attributes changed by uidPolicy derive, or the file's Transfer
   * Syntax UID (0002,0010) changed (big endian, deflated or lossy input stored as Explicit VR LE).
   */
  Coercion: 0xb000,
  /**
   * The gateway's own: stored byte for byte as sent, without the hidden identity (a non-image, lossy
   * pixels under lossyPolicy passthrough, or embedding failed under onFailure store-original). The
   * reason is in the HTTP Warning header and in the audit row's detail.
   */
  StoredWithoutIdentity: 0xb1e0,
} as const);

export interface ReferencedInstance {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly retrieveUrl: string;
  readonly warningReason?: number;
  /** Original Attributes Sequence items (DICOM JSON) when attributes were coerced. */
  readonly originalAttributes?: readonly Readonly<Record<string, unknown>>[];
}

export interface FailedInstance {
  /** Empty when the part could not be read far enough to know them. */
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly failureReason: number;
}

export interface StoreInstancesResponse {
  readonly status: 200 | 202 | 409;
  readonly body: Readonly<Record<string, unknown>>;
}

function ui(value: string): Record<string, unknown> {
  return value === '' ? { vr: 'UI' } : { vr: 'UI', Value: [value] };
}

export function storeInstancesResponse(
  studyRetrieveUrl: string | undefined,
  referenced: readonly ReferencedInstance[],
  failed: readonly FailedInstance[],
  extraWarning: boolean,
): StoreInstancesResponse {
  const body: Record<string, unknown> = {};
  if (studyRetrieveUrl !== undefined && referenced.length > 0) {
    body['00081190'] = { vr: 'UR', Value: [studyRetrieveUrl] };
  }
  if (failed.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: failed.map((f) => ({
        '00081150': ui(f.sopClassUid),
        '00081155': ui(f.sopInstanceUid),
        '00081197': { vr: 'US', Value: [f.failureReason] },
      })),
    };
  }
  if (referenced.length > 0) {
    body['00081199'] = {
      vr: 'SQ',
      Value: referenced.map((r) => {
        const item: Record<string, unknown> = {
          '00081150': ui(r.sopClassUid),
          '00081155': ui(r.sopInstanceUid),
          '00081190': { vr: 'UR', Value: [r.retrieveUrl] },
        };
        if (r.warningReason !== undefined) {
          item['00081196'] = { vr: 'US', Value: [r.warningReason] };
        }
        if (r.originalAttributes !== undefined && r.originalAttributes.length > 0) {
          item['04000561'] = { vr: 'SQ', Value: r.originalAttributes };
        }
        return item;
      }),
    };
  }
  const warned = extraWarning || referenced.some((r) => r.warningReason !== undefined);
  const status = referenced.length === 0 ? 409 : failed.length > 0 || warned ? 202 : 200;
  return { status, body };
}

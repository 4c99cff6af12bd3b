/**
 * The audit trail: one row per instance stored (or refused) and one per identity extraction. Rows
 * hold UIDs, rule, profile, key id and caller subject only: never a patient attribute.
 */

export const STORE_OUTCOMES = [
  /** Identity embedded, instance stored. */
  'embedded',
  /** Stored unchanged by a passthrough rule. */
  'passthrough',
  /** Embedding failed, original stored with a warning (onFailure: store-original). */
  'stored-original',
  /** Refused by a reject rule or by onFailure: reject. */
  'rejected',
  /** Could not be stored (parse error, upstream unavailable, ...). */
  'failed',
] as const;
export type StoreOutcome = (typeof STORE_OUTCOMES)[number];

export const EXTRACTION_RESULTS = [
  /** Payload found and every compared field equals the header. */
  'match',
  /** Payload found, some field differs from the header. */
  'mismatch',
  'no-payload',
  'wrong-key',
  'corrupted',
  'failed',
] as const;
export type ExtractionResult = (typeof EXTRACTION_RESULTS)[number];

export const AUDIT_KINDS = ['store', 'extraction'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface StoreRecord {
  readonly outcome: StoreOutcome;
  /** Name of the rule that decided (the default rule's name included). */
  readonly rule: string | null;
  readonly profile: string | null;
  readonly keyId: string | null;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
  readonly sopUid: string | null;
  /** The caller's subject (token `sub` or API key subject). */
  readonly caller: string;
  /** PS3.18 Table I.2-2 Failure Reason for rejected/failed instances. */
  readonly failureReason?: number;
  /** Orthanc upstream name. */
  readonly destination?: string;
  /** Stable error/warning code (e.g. EMBED_NO_CAPACITY); never free text with patient data. */
  readonly detail?: string;
  readonly at: Date;
}

export interface ExtractionRecord {
  readonly caller: string;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
  readonly sopUid: string | null;
  readonly result: ExtractionResult;
  readonly profile?: string;
  readonly keyId?: string;
  readonly detail?: string;
  readonly at: Date;
}

interface AuditEntryBase {
  /** Monotonic row id. */
  readonly id: number;
  readonly at: Date;
  readonly caller: string;
  readonly studyUid: string | null;
  readonly seriesUid: string | null;
  readonly sopUid: string | null;
  readonly profile: string | null;
  readonly keyId: string | null;
  readonly detail: string | null;
}

export interface StoreAuditEntry extends AuditEntryBase {
  readonly kind: 'store';
  readonly outcome: StoreOutcome;
  readonly rule: string | null;
  readonly failureReason: number | null;
  readonly destination: string | null;
}

export interface ExtractionAuditEntry extends AuditEntryBase {
  readonly kind: 'extraction';
  /** The extraction result. */
  readonly outcome: ExtractionResult;
}

export type AuditEntry = StoreAuditEntry | ExtractionAuditEntry;

export interface AuditFilter {
  /** Inclusive. */
  readonly from?: Date;
  /** Exclusive. */
  readonly to?: Date;
  readonly caller?: string;
  /** A store outcome or an extraction result. */
  readonly outcome?: StoreOutcome | ExtractionResult;
  readonly kind?: AuditKind;
  readonly studyUid?: string;
  /** 1..1000. */
  readonly limit: number;
  readonly offset: number;
}

export interface AuditStore {
  readonly backend: 'sqlite' | 'postgres';
  recordStore(record: StoreRecord): Promise<void>;
  recordExtraction(record: ExtractionRecord): Promise<void>;
  /** Newest first (by time, then id). */
  query(filter: AuditFilter): Promise<readonly AuditEntry[]>;
  close(): Promise<void>;
}

export type AuditConfig =
  | {
      readonly kind: 'sqlite';
      /** File path, or ':memory:' for tests. */
      readonly path: string;
    }
  | {
      readonly kind: 'postgres';
      readonly connectionString: string;
      /** Default 4. */
      readonly poolSize?: number;
    };

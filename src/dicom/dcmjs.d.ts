/**
 * The few parts of dcmjs (which ships no types) that src/dicom uses. Values stay `unknown` and are
 * parsed at the border (header.ts).
 */
declare module 'dcmjs' {
  export namespace data {
    interface DicomElement {
      vr: string;
      Value?: unknown[];
    }
    interface ReadOptions {
      ignoreErrors?: boolean;
      untilTag?: string | null;
      includeUntilTagValue?: boolean;
      noCopy?: boolean;
      forceStoreRaw?: boolean;
    }
    class DicomDict {
      meta: Record<string, DicomElement>;
      dict: Record<string, DicomElement>;
      write(): ArrayBuffer;
    }
    const DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: ReadOptions): DicomDict;
    };
    const DicomMetaDictionary: {
      naturalizeDataset(dict: Record<string, DicomElement>): Record<string, unknown>;
    };
  }
  interface Logger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
    getLogger(name: string): Logger;
  }
  export const log: Logger;
}

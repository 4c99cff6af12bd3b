/**
 * dicomweb-client (the JavaScript client viewers such as OHIF use) in Node: it speaks
 * XMLHttpRequest, which the xhr2 package provides. Its published types mark request options as
 * required that are not; this wrapper gives the tests the few calls they use, typed.
 */
import { api } from 'dicomweb-client';
import XMLHttpRequest from 'xhr2';

(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= XMLHttpRequest;

export type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

export interface ViewerClient {
  storeInstances(options: { datasets: ArrayBuffer[]; studyInstanceUID?: string }): Promise<unknown>;
  searchForSeries(options: {
    studyInstanceUID?: string;
    queryParams?: Record<string, string>;
  }): Promise<DicomJson[]>;
  searchForInstances(options: {
    studyInstanceUID?: string;
    seriesInstanceUID?: string;
    queryParams?: Record<string, string>;
  }): Promise<DicomJson[]>;
  retrieveInstance(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
  }): Promise<ArrayBuffer>;
  retrieveSeriesMetadata(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
  }): Promise<DicomJson[]>;
  retrieveInstanceFrames(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
    frameNumbers: number[];
  }): Promise<unknown[]>;
}

export function viewerClient(url: string, token: string): ViewerClient {
  const client = new api.DICOMwebClient({
    url,
    headers: { Authorization: `Bearer ${token}` },
    singlepart: false,
    verbose: false,
  });
  return client as unknown as ViewerClient;
}

/** The first value of a DICOM JSON attribute as a string. */
export function jsonValue(dataset: DicomJson | undefined, tag: string): string | undefined {
  const value = dataset?.[tag]?.Value?.[0];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

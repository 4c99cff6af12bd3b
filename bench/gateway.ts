/**
 * Gateway throughput on this machine, each figure beside its baseline measured in the same run:
 * - STOW-RS of the same 512x512 CT series (one instance per request, 4 clients): directly to
 *   Orthanc's DICOMweb plugin, through the gateway with a passthrough rule, and through it with
 *   embedding (fidelity profile, worker pool);
 * - WADO-RS retrieval of every instance: directly from Orthanc and through the gateway.
 * Median of several rounds; the study is deleted between rounds so every round really stores.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createIdentityEngine } from '../src/gateway/identity/create-identity-engine';
import { readInstanceHeader } from '../src/gateway/stow/read-instance-header';
import { createSegmenter } from '../src/segmentation/create-segmenter';
import type { SegmenterName } from '../src/segmentation/segmenter';
import { DATA_DIR, multipartBody, PASSTHROUGH_RULES, startHarness } from '../test/gateway/harness';
import type { Harness } from '../test/gateway/harness';
import { startTestOrthanc } from '../test/helpers/orthanc';
import type { TestOrthanc } from '../test/helpers/orthanc';

const SERIES_DIR = path.join(DATA_DIR, 'ct/lung-pet-ct-dx');
const CLIENTS = 4;
const ROUNDS = 5;

interface Figures {
  readonly instancesPerSec: number;
  readonly mbPerSec: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Runs `task` on every item with CLIENTS in parallel; returns the seconds it took. */
async function timed<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        if (item !== undefined) await task(item);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function deleteStudy(orthanc: TestOrthanc, studyUid: string): Promise<void> {
  const found = (await (
    await fetch(`${orthanc.url}/tools/lookup`, {
      method: 'POST',
      body: studyUid,
      headers: { Authorization: orthanc.authorization },
    })
  ).json()) as { ID: string; Type: string }[];
  for (const entry of found.filter((e) => e.Type === 'Study')) {
    await (
      await fetch(`${orthanc.url}/studies/${entry.ID}`, {
        method: 'DELETE',
        headers: { Authorization: orthanc.authorization },
      })
    ).arrayBuffer();
  }
}

async function stowRound(
  url: string,
  authorization: string,
  files: readonly Buffer[],
  orthanc: TestOrthanc,
  studyUid: string,
): Promise<number> {
  await deleteStudy(orthanc, studyUid);
  return timed(files, async (file) => {
    const { body, contentType } = multipartBody([file]);
    const response = await fetch(`${url}/studies`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType, Authorization: authorization },
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`STOW answered ${response.status}`);
  });
}

async function wadoRound(
  url: string,
  authorization: string,
  paths: readonly string[],
): Promise<number> {
  return timed(paths, async (instancePath) => {
    const response = await fetch(`${url}${instancePath}`, {
      headers: {
        Accept: 'multipart/related; type="application/dicom"',
        // Orthanc gzips when asked (fetch asks by default), which would slow the baseline down.
        'Accept-Encoding': 'identity',
        Authorization: authorization,
      },
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`WADO answered ${response.status}`);
  });
}

/** Rounds of each scenario interleaved, so that load from elsewhere hits them alike. */
async function interleaved(
  scenarios: readonly (() => Promise<number>)[],
  instances: number,
  bytes: number,
): Promise<Figures[]> {
  const seconds: number[][] = scenarios.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, scenario] of scenarios.entries()) seconds[i]?.push(await scenario());
  }
  return seconds.map((s) => {
    const m = median(s);
    return { instancesPerSec: instances / m, mbPerSec: bytes / 1e6 / m };
  });
}

function line(label: string, figures: Figures, baseline?: Figures): string {
  const ratio =
    baseline === undefined
      ? ''
      : `   ${(figures.instancesPerSec / baseline.instancesPerSec).toFixed(2)}x direct`;
  return `${label.padEnd(34)} ${figures.instancesPerSec.toFixed(1).padStart(7)} instances/s ${figures.mbPerSec.toFixed(1).padStart(7)} MB/s${ratio}`;
}

async function segmenterHere(): Promise<SegmenterName> {
  try {
    await (await createSegmenter('onnx-maskrcnn')).close();
    return 'onnx-maskrcnn';
  } catch {
    return 'threshold';
  }
}

export async function run(): Promise<void> {
  const files = readdirSync(SERIES_DIR)
    .filter((f) => f.endsWith('.dcm'))
    .sort()
    .map((f) => readFileSync(path.join(SERIES_DIR, f)));
  const headers = files.map((f) => {
    const read = readInstanceHeader(f);
    if (!read.ok) throw new Error(read.message);
    return read.header;
  });
  const studyUid = headers[0]?.studyInstanceUid ?? '';
  const instancePaths = headers.map(
    (h) =>
      `/studies/${h.studyInstanceUid}/series/${h.seriesInstanceUid}/instances/${h.sopInstanceUid}`,
  );
  const segmenter = await segmenterHere();
  console.log(
    `series: ${files.length} CT instances 512x512 (${(files.reduce((n, f) => n + f.length, 0) / 1e6).toFixed(1)} MB), ${CLIENTS} clients, one instance per request, median of ${ROUNDS} rounds; embedding: fidelity, ${segmenter}, 2 worker threads`,
  );

  const orthanc = await startTestOrthanc();
  let passthrough: Harness | undefined;
  let embedding: Harness | undefined;
  try {
    passthrough = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      orthanc,
      config: (base) => ({ ...base, logLevel: 'warn' }),
    });
    embedding = await startHarness({
      engine: createIdentityEngine,
      orthanc,
      config: (base) => ({
        ...base,
        logLevel: 'warn',
        embedding: { ...base.embedding, defaultSegmenter: segmenter, workers: 2 },
      }),
    });
    const orthancDicomWeb = `${orthanc.url}/dicom-web`;
    const totalBytes = files.reduce((n, f) => n + f.length, 0);
    const passthroughAuth = `Bearer ${passthrough.tokens.modality}`;
    const embeddingAuth = `Bearer ${embedding.tokens.modality}`;
    const gatewayUrl = passthrough.gateway.url;
    const embeddingUrl = embedding.gateway.url;
    const [direct, viaPassthrough, viaEmbedding] = await interleaved(
      [
        () => stowRound(orthancDicomWeb, orthanc.authorization, files, orthanc, studyUid),
        () => stowRound(gatewayUrl, passthroughAuth, files, orthanc, studyUid),
        () => stowRound(embeddingUrl, embeddingAuth, files, orthanc, studyUid),
      ],
      files.length,
      totalBytes,
    );
    if (direct === undefined || viaPassthrough === undefined || viaEmbedding === undefined) {
      throw new Error('missing figures');
    }
    // The pipeline alone, in this thread, one instance after the other: the cost the gateway's
    // two workers share.
    const engine = await createIdentityEngine(
      { ...embedding.config, embedding: { ...embedding.config.embedding, workers: 0 } },
      embedding.gateway.logger,
    );
    const alone: number[] = [];
    for (const file of files.slice(0, 10)) {
      const started = process.hrtime.bigint();
      const outcome = await engine.embed(file, {
        profile: 'fidelity',
        segmenter,
        marginPx: 4,
        uidPolicy: 'keep',
      });
      if (!outcome.ok) throw new Error(`embedding failed: ${outcome.code}`);
      alone.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    await engine.close();
    const aloneRate = 1 / median(alone);
    const twoCores: Figures = {
      instancesPerSec: 2 * aloneRate,
      mbPerSec: (2 * aloneRate * (files[0]?.length ?? 0)) / 1e6,
    };

    console.log(line('STOW-RS direct to Orthanc', direct));
    console.log(line('STOW-RS gateway, passthrough', viaPassthrough, direct));
    console.log(line('STOW-RS gateway, embedding', viaEmbedding, direct));
    console.log(
      `${line('embedding alone x 2 cores (bound)', twoCores)}   gateway embedding = ${(viaEmbedding.instancesPerSec / twoCores.instancesPerSec).toFixed(2)}x this bound (${(median(alone) * 1000).toFixed(0)} ms per instance on one thread)`,
    );

    // The study as the last round stored it (embedded): same bytes for both.
    const viewerAuth = `Bearer ${passthrough.tokens.viewer}`;
    const [wadoDirect, wadoGateway] = await interleaved(
      [
        () => wadoRound(orthancDicomWeb, orthanc.authorization, instancePaths),
        () => wadoRound(gatewayUrl, viewerAuth, instancePaths),
      ],
      files.length,
      totalBytes,
    );
    if (wadoDirect === undefined || wadoGateway === undefined) throw new Error('missing figures');
    console.log(line('WADO-RS direct from Orthanc', wadoDirect));
    console.log(line('WADO-RS through the gateway', wadoGateway, wadoDirect));
  } finally {
    await embedding?.stop();
    await passthrough?.stop();
    await orthanc.stop();
  }
}

if (require.main === module) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/**
 * Gateway throughput on this machine, each figure beside its baseline measured in the same run:
 * - STOW-RS of the same 512x512 CT series (one instance per request, 4 clients): directly to
 *   Orthanc's DICOMweb plugin, through the gateway with a passthrough rule, and through it with
 *   embedding (fidelity profile, worker pool); and the series in requests of BATCH instances;
 * - WADO-RS retrieval of every instance: directly from Orthanc and through the gateway, which
 *   answers an instance in its stored syntax from Orthanc's stored file, not through the DICOMweb
 *   plugin (docs/api.md): read in Orthanc's storage folder as `npm start` configures it, and over
 *   HTTP as in front of an Orthanc on another host (the embedding gateway, configured so);
 * - both also through a minimal node:http reverse proxy (30 lines, no auth, no parsing, no
 *   rewriting): the floor of any Node.js hop on this machine, which shows how much of the gap to
 *   direct is the gateway's own work and how much is one more process copying the bytes.
 * The gateway runs in its own process (`start --external-orthanc`), as in production, and so do
 * the clients (CLIENT_SCRIPT: node:http alone, as on a viewer's machine). Median of
 * several interleaved rounds; the study is deleted before each STOW round so that every round
 * really stores. Beside the measured rates, the CPU time per instance (clients, gateway with its
 * workers, Orthanc) gives the rate two otherwise idle cores would reach: on a shared machine the
 * measured rates move with the load, the CPU cost much less, yet it does (more wake-ups, fewer
 * events handled per wake-up, colder caches): the gateway's CPU per instance varied up to twofold
 * between runs at load averages of 2 and 11, so compare figures of one run only. CPU is read from
 * /proc/PID/task/TID/schedstat (nanoseconds); the gateway's main thread (its event loop) is shown
 * beside the whole process.
 *
 * Every Node.js hop (the gateways and the minimal proxy) runs with the options `npm start` uses
 * (`--single-threaded-gc`: V8's parallel and concurrent GC threads cost more than they save where
 * Orthanc and the clients hold the other core; the gateway's own CPU per instance fell from 4.3 to
 * 3.0 ms STOW passthrough and 2.7 to 1.5 ms WADO-RS), plus BENCH_GATEWAY_NODE_ARGS (e.g. `--cpu-prof
 * --cpu-prof-dir=DIR`). Every path is warmed up alike, STOW-RS and WADO-RS, before the measured
 * rounds: a freshly started process spends a fifth of its CPU in V8's optimising compiler for the
 * first few hundred requests, and the minimal proxy's 30 lines are compiled long before the
 * gateway's request path is, which measured JIT warm-up as gateway cost.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

import { generateHs256Secret, mintToken } from '../src/gateway/auth/credentials';
import type { Role } from '../src/gateway/auth/types';
import { readInstanceHeader } from '../src/gateway/stow/read-instance-header';
import { createSegmenter } from '../src/segmentation/create-segmenter';
import type { SegmenterName } from '../src/segmentation/segmenter';
import { generateKeyRing, serializeKeyRing } from '../src/stego/key-ring';
import { DATA_DIR, PASSTHROUGH_RULES } from '../test/gateway/harness';
import { startTestOrthanc } from '../test/helpers/orthanc';
import type { TestOrthanc } from '../test/helpers/orthanc';

const SERIES_DIR = path.join(DATA_DIR, 'ct/lung-pet-ct-dx');
const CLIENTS = 4;
const ROUNDS = 5;
/**
 * WADO-RS rounds fetch the series this many times (480 requests, about a third of a second): with 4
 * passes, rounds of a tenth of a second moved by a fifth between runs.
 */
const WADO_PASSES = 16;
/**
 * Instances per STOW-RS request in the batched rounds: the series in four requests, one per client,
 * as four modalities sending a series each would.
 */
const BATCH = 8;
/** Unmeasured rounds of STOW-RS and WADO-RS through every path before the measured ones. */
const WARM_UP_ROUNDS = 8;
/** Node options of every Node.js hop: those of `npm start`, then BENCH_GATEWAY_NODE_ARGS. */
const NODE_ARGS = [
  '--single-threaded-gc',
  ...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
];

interface Figures {
  readonly instancesPerSec: number;
  readonly mbPerSec: number;
  /** CPU time (clients, proxy with its threads, Orthanc) per instance, milliseconds. */
  readonly cpuMsPerInstance: number;
  /** The proxy's (gateway's) share of it. */
  readonly proxyCpuMsPerInstance: number;
  /**
   * The proxy's main thread (the event loop), the rest being V8's compiler and GC threads and the
   * gateway's workers.
   */
  readonly proxyMainCpuMsPerInstance: number;
  /** Orthanc's share. */
  readonly orthancCpuMsPerInstance: number;
}

interface Sample {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly proxyCpuSeconds: number;
  readonly proxyMainCpuSeconds: number;
  readonly orthancCpuSeconds: number;
}

/** Orthanc's pid and the proxy (gateway) process's in use, for their share of the CPU (Linux /proc). */
let orthancPid: number | undefined;
let gatewayPids: number[] = [];

/**
 * CPU seconds used so far by a process (its live threads), from /proc/PID/task/TID/schedstat:
 * nanoseconds on the CPU, where /proc/PID/stat counts 10 ms ticks (a tenth of a STOW-RS round's
 * gateway CPU). /proc/PID/stat where schedstat is missing.
 */
function processCpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1e9;
  } catch {
    // No schedstat: ticks below.
  }
  try {
    // Fields 14 and 15 (counted after the parenthesised name): utime and stime in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by one thread of a process (its main thread: tid = pid). */
function threadCpuSeconds(pid: number, tid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return 0;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** CPU seconds used so far by the clients' process, Orthanc and the gateway in use. */
function cpuSeconds(): { all: number; proxy: number; proxyMain: number; orthanc: number } {
  const clients = clientPid === undefined ? 0 : processCpuSeconds(clientPid);
  const proxy = gatewayPids.reduce((n, pid) => n + processCpuSeconds(pid), 0);
  const proxyMain = gatewayPids.reduce((n, pid) => n + threadCpuSeconds(pid, pid), 0);
  const orthanc = orthancPid === undefined ? 0 : processCpuSeconds(orthancPid);
  return { all: clients + orthanc + proxy, proxy, proxyMain, orthanc };
}

/** One round of requests for the clients' process (CLIENT_SCRIPT). */
interface ClientJob {
  readonly method: 'GET' | 'POST';
  /**
   * Each GET's URL is base + item; each POST goes to base + '/studies' with the files of the item
   * (paths joined by '|'), one part each.
   */
  readonly base: string;
  readonly authorization: string;
  readonly items: readonly string[];
}

/** Runs a round in the clients' process; returns the seconds and CPU it took. */
async function timed(job: ClientJob): Promise<Sample> {
  if (clients === undefined) throw new Error('the clients are not running');
  const cpuBefore = cpuSeconds();
  const answer = await clients.run(job);
  const cpuAfter = cpuSeconds();
  if (answer.failed !== undefined) throw new Error(answer.failed);
  return {
    seconds: answer.seconds,
    cpuSeconds: cpuAfter.all - cpuBefore.all,
    proxyCpuSeconds: cpuAfter.proxy - cpuBefore.proxy,
    proxyMainCpuSeconds: cpuAfter.proxyMain - cpuBefore.proxyMain,
    orthancCpuSeconds: cpuAfter.orthanc - cpuBefore.orthanc,
  };
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
  files: readonly string[],
  orthanc: TestOrthanc,
  studyUid: string,
  perRequest = 1,
): Promise<Sample> {
  await deleteStudy(orthanc, studyUid);
  const items: string[] = [];
  for (let at = 0; at < files.length; at += perRequest) {
    items.push(files.slice(at, at + perRequest).join('|'));
  }
  return timed({ method: 'POST', base: url, authorization, items });
}

async function wadoRound(
  url: string,
  authorization: string,
  paths: readonly string[],
): Promise<Sample> {
  return timed({ method: 'GET', base: url, authorization, items: paths });
}

/** Rounds of each scenario interleaved, so that load from elsewhere hits them alike. */
async function interleaved(
  scenarios: readonly (() => Promise<Sample>)[],
  instances: number,
  bytes: number,
): Promise<Figures[]> {
  const samples: Sample[][] = scenarios.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, scenario] of scenarios.entries()) samples[i]?.push(await scenario());
  }
  return samples.map((s) => {
    const seconds = median(s.map((x) => x.seconds));
    return {
      instancesPerSec: instances / seconds,
      mbPerSec: bytes / 1e6 / seconds,
      cpuMsPerInstance: (median(s.map((x) => x.cpuSeconds)) * 1000) / instances,
      proxyCpuMsPerInstance: (median(s.map((x) => x.proxyCpuSeconds)) * 1000) / instances,
      proxyMainCpuMsPerInstance: (median(s.map((x) => x.proxyMainCpuSeconds)) * 1000) / instances,
      orthancCpuMsPerInstance: (median(s.map((x) => x.orthancCpuSeconds)) * 1000) / instances,
    };
  });
}

/** Instances per second two otherwise idle cores would give at this CPU cost. */
function cpuBound(figures: Figures): number {
  return (2 * 1000) / figures.cpuMsPerInstance;
}

function line(label: string, figures: Figures, baseline?: Figures): string {
  const ratio =
    baseline === undefined
      ? ''
      : `  = ${(figures.instancesPerSec / baseline.instancesPerSec).toFixed(2)}x direct measured, ${(cpuBound(figures) / cpuBound(baseline)).toFixed(2)}x CPU-bound`;
  const proxy =
    baseline === undefined
      ? ` (Orthanc ${figures.orthancCpuMsPerInstance.toFixed(2)})`
      : ` (proxy ${figures.proxyCpuMsPerInstance.toFixed(2)}, Orthanc ${figures.orthancCpuMsPerInstance.toFixed(2)})`;
  return (
    `${label.padEnd(34)} ${figures.instancesPerSec.toFixed(1).padStart(6)} inst/s ` +
    `${figures.mbPerSec.toFixed(1).padStart(6)} MB/s ${figures.cpuMsPerInstance.toFixed(2).padStart(6)} CPU ms/inst${proxy.padEnd(30)}` +
    ` CPU-bound ${cpuBound(figures).toFixed(0).padStart(4)} inst/s${ratio}`
  );
}

/** The target (0.9x direct) beside what the floor of any Node.js hop reaches. */
function summary(label: string, gateway: Figures, floor: Figures, direct: Figures): string {
  const ratio = (f: Figures) =>
    `${(f.instancesPerSec / direct.instancesPerSec).toFixed(2)}x measured, ${(cpuBound(f) / cpuBound(direct)).toFixed(2)}x CPU-bound`;
  return (
    `${label}: gateway ${ratio(gateway)} of direct (target 0.9x); minimal proxy ${ratio(floor)}; ` +
    `proxy CPU ms/inst gateway ${gateway.proxyCpuMsPerInstance.toFixed(2)} (main thread ${gateway.proxyMainCpuMsPerInstance.toFixed(2)}), ` +
    `minimal proxy ${floor.proxyCpuMsPerInstance.toFixed(2)} (main thread ${floor.proxyMainCpuMsPerInstance.toFixed(2)})`
  );
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
  const filePaths = readdirSync(SERIES_DIR)
    .filter((f) => f.endsWith('.dcm'))
    .sort()
    .map((f) => path.join(SERIES_DIR, f));
  const files = filePaths.map((f) => readFileSync(f));
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
  const wadoPaths = Array.from({ length: WADO_PASSES }, () => instancePaths).flat();
  const segmenter = await segmenterHere();
  console.log(
    `series: ${files.length} CT instances 512x512 (${(files.reduce((n, f) => n + f.length, 0) / 1e6).toFixed(1)} MB), ${CLIENTS} clients, one instance per request (and ${BATCH} where said), median of ${ROUNDS} rounds after ${WARM_UP_ROUNDS} warm-up rounds of every path (WADO-RS: the series ${WADO_PASSES} times per round); Node.js hops run with ${NODE_ARGS.join(' ')}; embedding: fidelity, ${segmenter}, 2 worker threads`,
  );
  console.log(
    `CPU ms/inst = clients + proxy (the gateway process with its worker and GC threads, or the minimal proxy) + Orthanc, the cost whatever else runs; (proxy x, Orthanc y) are the proxy's and Orthanc's shares; CPU-bound = 2000 / that, the rate on two idle cores. Ratios against direct in the same run. Load average now ${os.loadavg()[0]?.toFixed(1)}: measured rates depend on it.`,
  );

  const orthanc = await startTestOrthanc();
  orthancPid = orthanc.pid;
  clients = startClients();
  clientPid = clients.pid;
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'stego-bench-'));
  const gateways: GatewayProcess[] = [];
  try {
    const secret = generateHs256Secret();
    const keyRingFile = path.join(tempDir, 'keys.json');
    await writeFile(
      keyRingFile,
      JSON.stringify(serializeKeyRing(generateKeyRing((n) => randomBytes(n), 'bench-key'))),
    );
    const rulesFile = path.join(tempDir, 'passthrough.yaml');
    await writeFile(rulesFile, PASSTHROUGH_RULES);
    // As `npm start` runs them, the gateway reads stored files in Orthanc's storage folder; the
    // embedding gateway does not, and stands for a gateway in front of an Orthanc on another host.
    const configFor = (
      name: string,
      embedding: Record<string, unknown>,
      storageFolder: boolean,
    ): unknown => ({
      http: { host: '127.0.0.1', port: 0 },
      upstreams: {
        orthanc: {
          url: orthanc.url,
          username: orthanc.username,
          password: orthanc.password,
          ...(storageFolder ? { storageDirectory: orthanc.storageDirectory } : {}),
        },
      },
      embedding: { keyRingFile, defaultSegmenter: segmenter, ...embedding },
      auth: { jwt: { hs256Secret: secret } },
      audit: { kind: 'sqlite', path: path.join(tempDir, `audit-${name}.sqlite`) },
      logLevel: 'warn',
    });
    const passthrough = await spawnGateway(
      tempDir,
      'passthrough',
      configFor('passthrough', { rulesFile, workers: 1 }, true),
    );
    gateways.push(passthrough);
    const embedding = await spawnGateway(
      tempDir,
      'embedding',
      configFor('embedding', { workers: 2 }, false),
    );
    gateways.push(embedding);
    const minimal = await spawnMinimalProxy(orthanc.url);
    gateways.push(minimal);
    const token = (roles: Role[]) => mintToken({ secret, subject: 'bench', roles });
    const modalityAuth = `Bearer ${await token(['modality'])}`;
    const viewerAuth = `Bearer ${await token(['viewer'])}`;

    const orthancDicomWeb = `${orthanc.url}/dicom-web`;
    const totalBytes = files.reduce((n, f) => n + f.length, 0);
    gatewayPids = [];
    // Warm-up (JIT, ONNX sessions, connections) of every path alike, not measured. The embedding
    // gateway's request path is the passthrough one's plus the worker pool: one STOW-RS round
    // warms its workers.
    await stowRound(embedding.url, modalityAuth, filePaths, orthanc, studyUid);
    const paths = [
      { url: orthancDicomWeb, stowAuth: orthanc.authorization, wadoAuth: orthanc.authorization },
      { url: passthrough.url, stowAuth: modalityAuth, wadoAuth: viewerAuth },
      { url: minimal.url, stowAuth: orthanc.authorization, wadoAuth: orthanc.authorization },
    ];
    for (let round = 0; round < WARM_UP_ROUNDS; round += 1) {
      for (const target of paths) {
        await stowRound(target.url, target.stowAuth, filePaths, orthanc, studyUid);
        await stowRound(target.url, target.stowAuth, filePaths, orthanc, studyUid, BATCH);
        await wadoRound(target.url, target.wadoAuth, wadoPaths);
      }
      await wadoRound(embedding.url, viewerAuth, wadoPaths);
    }
    // Rounds interleaved; each scenario's CPU counts the gateway process it goes through.
    const viaGateway = async (gateway: GatewayProcess): Promise<Sample> => {
      gatewayPids = [gateway.pid];
      return stowRound(gateway.url, modalityAuth, filePaths, orthanc, studyUid);
    };
    const [directAgain, viaPassthrough, viaEmbedding, viaMinimal] = await interleaved(
      [
        async () => {
          gatewayPids = [];
          return stowRound(orthancDicomWeb, orthanc.authorization, filePaths, orthanc, studyUid);
        },
        () => viaGateway(passthrough),
        () => viaGateway(embedding),
        async () => {
          gatewayPids = [minimal.pid];
          return stowRound(`${minimal.url}`, orthanc.authorization, filePaths, orthanc, studyUid);
        },
      ],
      files.length,
      totalBytes,
    );
    if (
      directAgain === undefined ||
      viaPassthrough === undefined ||
      viaEmbedding === undefined ||
      viaMinimal === undefined
    ) {
      throw new Error('missing figures');
    }

    console.log(line('STOW-RS direct to Orthanc', directAgain));
    console.log(line('STOW-RS gateway, passthrough', viaPassthrough, directAgain));
    console.log(line('STOW-RS gateway, embedding', viaEmbedding, directAgain));
    console.log(line('STOW-RS minimal node proxy (floor)', viaMinimal, directAgain));
    // The same series in requests of BATCH instances, one request per client: the requests'
    // own cost (HTTP, authentication, the answer) shared by several instances.
    const [batchDirect, batchGateway, batchMinimal] = await interleaved(
      [
        async () => {
          gatewayPids = [];
          return stowRound(
            orthancDicomWeb,
            orthanc.authorization,
            filePaths,
            orthanc,
            studyUid,
            BATCH,
          );
        },
        async () => {
          gatewayPids = [passthrough.pid];
          return stowRound(passthrough.url, modalityAuth, filePaths, orthanc, studyUid, BATCH);
        },
        async () => {
          gatewayPids = [minimal.pid];
          return stowRound(minimal.url, orthanc.authorization, filePaths, orthanc, studyUid, BATCH);
        },
      ],
      files.length,
      totalBytes,
    );
    if (batchDirect === undefined || batchGateway === undefined || batchMinimal === undefined) {
      throw new Error('missing figures');
    }
    console.log(line(`STOW-RS direct, ${BATCH} per request`, batchDirect));
    console.log(line(`STOW-RS passthrough, ${BATCH} per req.`, batchGateway, batchDirect));
    console.log(line(`STOW-RS minimal proxy, ${BATCH} per req.`, batchMinimal, batchDirect));
    // The study as the last round stored it: the same bytes both ways.
    const [wadoDirect, wadoGateway, wadoRemote, wadoMinimal] = await interleaved(
      [
        async () => {
          gatewayPids = [];
          return wadoRound(orthancDicomWeb, orthanc.authorization, wadoPaths);
        },
        async () => {
          gatewayPids = [passthrough.pid];
          return wadoRound(passthrough.url, viewerAuth, wadoPaths);
        },
        async () => {
          gatewayPids = [embedding.pid];
          return wadoRound(embedding.url, viewerAuth, wadoPaths);
        },
        async () => {
          gatewayPids = [minimal.pid];
          return wadoRound(minimal.url, orthanc.authorization, wadoPaths);
        },
      ],
      wadoPaths.length,
      totalBytes * WADO_PASSES,
    );
    if (
      wadoDirect === undefined ||
      wadoGateway === undefined ||
      wadoRemote === undefined ||
      wadoMinimal === undefined
    ) {
      throw new Error('missing figures');
    }
    console.log(line('WADO-RS direct from Orthanc', wadoDirect));
    console.log(line('WADO-RS through the gateway', wadoGateway, wadoDirect));
    console.log(line('WADO-RS gateway, Orthanc over HTTP', wadoRemote, wadoDirect));
    console.log(line('WADO-RS minimal node proxy (floor)', wadoMinimal, wadoDirect));
    console.log(summary('STOW-RS passthrough', viaPassthrough, viaMinimal, directAgain));
    console.log(
      summary(`STOW-RS passthrough, ${BATCH} per request`, batchGateway, batchMinimal, batchDirect),
    );
    console.log(summary('WADO-RS retrieval', wadoGateway, wadoMinimal, wadoDirect));
    console.log(summary('WADO-RS, Orthanc on another host', wadoRemote, wadoMinimal, wadoDirect));
  } finally {
    clients?.stop();
    for (const gateway of gateways) await gateway.stop();
    await orthanc.stop();
    await rm(tempDir, { recursive: true, force: true });
  }
}

/**
 * The clients: CLIENTS requests at a time from a process of their own that loads nothing but
 * node:http, as a viewer or modality on another machine would (in this process, whose heap holds
 * the gateway's modules and the series, V8's collections made the same requests cost five times the
 * CPU, and that CPU competed with the hops measured). Kept-alive connections for every target
 * alike: Orthanc announces `Keep-Alive: timeout=1`, which Node's agent takes as "never reuse"; the
 * clients keep them anyway so that the direct baseline does not pay a TCP connection per request.
 * Each STOW-RS body is built once per file, before the first round that sends it. One job per line
 * on stdin (ClientJob), one answer per line on stdout.
 */
const CLIENT_SCRIPT = `
const http = require('node:http');
const fs = require('node:fs');
const readline = require('node:readline');
const clients = Number(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients * 2 });
agent.keepSocketAlive = (socket) => { socket.setTimeout(500); return true; };
const bodies = new Map();
// One STOW-RS body per item: the files of the item ('|' between paths), one part each.
function body(item) {
  let built = bodies.get(item);
  if (built === undefined) {
    const boundary = 'bench' + bodies.size;
    const chunks = [];
    for (const file of item.split('|')) {
      chunks.push(Buffer.from('--' + boundary + '\\r\\nContent-Type: application/dicom\\r\\n\\r\\n'),
        fs.readFileSync(file), Buffer.from('\\r\\n'));
    }
    chunks.push(Buffer.from('--' + boundary + '--\\r\\n'));
    built = { type: 'multipart/related; type="application/dicom"; boundary=' + boundary,
      bytes: Buffer.concat(chunks) };
    bodies.set(item, built);
  }
  return built;
}
function send(url, method, headers, payload) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent,
      headers: payload === undefined ? headers : { ...headers, 'Content-Length': payload.length } },
      (response) => {
        response.on('data', () => undefined);
        response.on('end', () => resolve(response.statusCode));
        response.on('error', reject);
      });
    request.on('error', reject);
    request.end(payload);
  });
}
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const job = JSON.parse(line);
  if (job.method === 'POST') for (const file of job.items) body(file);
  const started = process.hrtime.bigint();
  let next = 0;
  let failed;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < job.items.length && failed === undefined) {
      const item = job.items[next];
      next += 1;
      try {
        const status = job.method === 'GET'
          ? await send(job.base + item, 'GET',
              { Accept: 'multipart/related; type="application/dicom"', Authorization: job.authorization })
          : await send(job.base + '/studies', 'POST',
              { 'Content-Type': body(item).type, Authorization: job.authorization }, body(item).bytes);
        if (status !== 200) failed = job.method + ' ' + job.base + ' answered ' + status;
      } catch (error) {
        failed = String(error);
      }
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, failed }) + '\\n');
});
`;

interface ClientProcess {
  readonly pid: number | undefined;
  run(job: ClientJob): Promise<{ seconds: number; failed?: string }>;
  stop(): void;
}

let clients: ClientProcess | undefined;
let clientPid: number | undefined;

function startClients(): ClientProcess {
  const child = spawn(process.execPath, ['-e', CLIENT_SCRIPT, String(CLIENTS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const answers = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  answers.on('line', (line) => waiting.shift()?.(line));
  return {
    pid: child.pid,
    run(job) {
      return new Promise((resolve) => {
        waiting.push((line) => resolve(JSON.parse(line) as { seconds: number; failed?: string }));
        child.stdin?.write(`${JSON.stringify(job)}\n`);
      });
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * The gateway in its own process (`stego-gateway start --external-orthanc`), as in production: it
 * must not share this process's event loop with the benchmark's clients.
 */
async function spawnGateway(dir: string, name: string, config: unknown): Promise<GatewayProcess> {
  const configFile = path.join(dir, `${name}.json`);
  await writeFile(configFile, JSON.stringify(config));
  return spawnJsonLine(name, [
    ...NODE_ARGS,
    '--require',
    require.resolve('tsx/cjs'),
    path.join(path.resolve(__dirname, '..'), 'src/cli/main.ts'),
    'start',
    '--external-orthanc',
    '--config',
    configFile,
  ]);
}

/**
 * The floor of any Node.js reverse proxy: node:http in, node:http out (kept-alive connections,
 * as the gateway's Orthanc client), bodies piped both ways, the caller's Authorization passed on.
 */
const MINIMAL_PROXY = `
const http = require('node:http');
const target = new URL(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
agent.keepSocketAlive = (socket) => { socket.setTimeout(500); socket.unref(); return true; };
const server = http.createServer((req, res) => {
  const headers = { accept: req.headers.accept ?? '*/*', authorization: req.headers.authorization ?? '' };
  for (const name of ['content-type', 'content-length', 'transfer-encoding']) {
    if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  }
  const upstream = http.request({ hostname: target.hostname, port: target.port,
    path: '/dicom-web' + req.url, method: req.method, agent, headers }, (answer) => {
    const out = { 'content-type': answer.headers['content-type'] ?? 'application/octet-stream' };
    if (answer.headers['content-length'] !== undefined) out['content-length'] = answer.headers['content-length'];
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
process.on('SIGTERM', () => process.exit(0));
`;

function spawnMinimalProxy(orthancUrl: string): Promise<GatewayProcess> {
  return spawnJsonLine('minimal proxy', [...NODE_ARGS, '-e', MINIMAL_PROXY, orthancUrl]);
}

/** Starts `node ARGS` and waits for the JSON line with its `url` on stdout. */
async function spawnJsonLine(name: string, args: readonly string[]): Promise<GatewayProcess> {
  const root = path.resolve(__dirname, '..');
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    void exited.then(() => reject(new Error(`gateway [${name}] exited during start`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    pid: child.pid ?? 0,
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (require.main === module) {
  run().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

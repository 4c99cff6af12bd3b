/**
 * Codec benchmark: what decoding and re-encoding one 512x512 CT slice costs in each lossless
 * syntax (the work 'embed-reencode-same-syntax' adds to an embed), beside the native path's baseline
 * (reading the samples of a native frame) measured in the same run. Medians of many runs, compressed
 * size as a ratio of the native frame. Never fails the build.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  decodeFrame,
  encodeFrame,
  encodeFrameVerified,
  initializeCodecs,
  storedValues,
  TRANSFER_SYNTAX_CAPABILITIES,
  type FrameInfo,
} from '../src/dicom/codecs';
import { readDicomImage } from '../src/dicom';

const CT = path.resolve(__dirname, '../../shared/data/ct/cmb-crc-chest-abdomen/1-001.dcm');
const RUNS = 15;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

async function medianMs(work: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

export async function run(): Promise<void> {
  const bytes = new Uint8Array(fs.readFileSync(CT));
  const image = readDicomImage(bytes);
  const info: FrameInfo = {
    rows: image.rows,
    columns: image.columns,
    bitsAllocated: image.bitsAllocated,
    bitsStored: image.bitsStored,
    samplesPerPixel: 1,
    signed: image.signed,
    photometricInterpretation: image.photometricInterpretation,
  };
  const native = bytes.slice(
    image.pixelData.offset,
    image.pixelData.offset + image.pixelData.length,
  );
  await initializeCodecs();
  const baseline = await medianMs(() => storedValues(native, info));
  console.log(
    `512x512 CT slice (${info.bitsStored}-bit ${info.signed ? 'signed' : 'unsigned'}), median of ${RUNS} runs`,
  );
  console.log(`baseline, native samples read: ${baseline.toFixed(2)} ms`);
  console.log(
    '| Syntax | decode ms | encode ms | encode + verify ms | size / native | encode+verify vs baseline |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of TRANSFER_SYNTAX_CAPABILITIES.values()) {
    if (!row.encode || row.family === 'native') continue;
    const encoded = await encodeFrame(row.uid, native, info);
    const decodeMs = await medianMs(() => decodeFrame(row.uid, encoded, info));
    const encodeMs = await medianMs(() => encodeFrame(row.uid, native, info));
    const verifiedMs = await medianMs(() => encodeFrameVerified(row.uid, native, info));
    console.log(
      `| ${row.name} | ${decodeMs.toFixed(1)} | ${encodeMs.toFixed(1)} | ${verifiedMs.toFixed(1)} | ${(encoded.length / native.length).toFixed(3)} | x${(verifiedMs / baseline).toFixed(0)} |`,
    );
  }
}

if (require.main === module) void run();

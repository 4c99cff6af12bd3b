import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StegoGatewayError } from '../stego/errors';
import { cliError, errorJson } from './cli-error';

/**
 * Batch mode: many files in one process (one segmenter session, one key ring), one JSON line per
 * file on stdout (NDJSON), so that a script can follow a long run line by line.
 */

export interface BatchInput {
  /** The path as given, or found under a directory given (joined to it). */
  readonly file: string;
  /** The path below its root: a directory given keeps its tree, a file given its base name. */
  readonly relative: string;
}

export type BatchEntry =
  | { readonly ok: true; readonly input: BatchInput }
  | { readonly ok: false; readonly file: string; readonly error: StegoGatewayError };

/** One JSON document on one line. */
export function printLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The `failed` line of a file: the error's code and message (never a stack trace). */
export function failedLine(file: string, error: unknown): Record<string, unknown> {
  const { code, message } = errorJson(error).error;
  return { file, outcome: 'failed', code, message };
}

async function listDirectory(
  dir: string,
  root: string,
  skip: ReadonlySet<string>,
): Promise<BatchEntry[]> {
  let names: Dirent[];
  try {
    names = await fs.readdir(dir, { withFileTypes: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const error = cliError('INPUT_UNREADABLE', `cannot list [${dir}] (${code ?? 'error'})`, cause);
    return [{ ok: false, file: dir, error }];
  }
  const out: BatchEntry[] = [];
  // Sorted by name so that runs and their NDJSON are reproducible.
  for (const entry of names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (skip.has(path.resolve(full))) continue;
    // Directories linked from inside the tree are not followed (a link to an ancestor would loop).
    if (entry.isDirectory()) {
      out.push(...(await listDirectory(full, root, skip)));
      continue;
    }
    const isFile =
      entry.isFile() ||
      (entry.isSymbolicLink() && (await fs.stat(full).catch(() => undefined))?.isFile() === true);
    if (isFile) out.push({ ok: true, input: { file: full, relative: path.relative(root, full) } });
  }
  return out;
}

/**
 * The files of the arguments, in order: a file as it is, a directory recursively (every regular
 * file, hidden ones included: the caller decides what is DICOM, not the name). A path that cannot be
 * read becomes a failed entry rather than stopping the batch. `skip` holds folders left out (the
 * output folder when it lies inside an input folder); a file found twice is listed once.
 */
export async function listBatchInputs(
  args: readonly string[],
  skip: ReadonlySet<string> = new Set(),
): Promise<BatchEntry[]> {
  const entries: BatchEntry[] = [];
  for (const arg of args) {
    let stat: Stats;
    try {
      stat = await fs.stat(arg);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const error = cliError(
        'INPUT_UNREADABLE',
        `cannot read [${arg}] (${code ?? 'error'})`,
        cause,
      );
      entries.push({ ok: false, file: arg, error });
      continue;
    }
    if (stat.isDirectory()) entries.push(...(await listDirectory(arg, arg, skip)));
    else entries.push({ ok: true, input: { file: arg, relative: path.basename(arg) } });
  }
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (!e.ok) return true;
    const key = path.resolve(e.input.file);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Whether any argument is a directory (extract and verify then answer in NDJSON). */
export async function anyDirectory(args: readonly string[]): Promise<boolean> {
  for (const arg of args) {
    const stat = await fs.stat(arg).catch(() => undefined);
    if (stat?.isDirectory() === true) return true;
  }
  return false;
}

/**
 * The output path of each input under `outDir`, checked before anything is written: no output may
 * be its own input (OUTPUT_IS_INPUT) and no two inputs may share an output (OUTPUT_NAME_CLASH).
 */
export function outputPaths(entries: readonly BatchEntry[], outDir: string): Map<string, string> {
  const outputs = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const e of entries) {
    if (!e.ok) continue;
    const output = path.join(outDir, e.input.relative);
    const resolved = path.resolve(output);
    if (resolved === path.resolve(e.input.file)) {
      throw cliError('OUTPUT_IS_INPUT', `the output [${output}] would overwrite the input`);
    }
    const other = owner.get(resolved);
    if (other !== undefined) {
      throw cliError(
        'OUTPUT_NAME_CLASH',
        `[${other}] and [${e.input.file}] would both be written to [${output}]`,
      );
    }
    owner.set(resolved, e.input.file);
    outputs.set(e.input.file, output);
  }
  return outputs;
}

/**
 * Thrown after a batch in which some file failed: its lines are on stdout already; this gives the
 * exit code (cli-error.ts) and one summary on stderr.
 */
export function batchResult(failed: number, total: number): void {
  if (failed > 0) {
    throw cliError('SOME_FILES_FAILED', `[${failed}] of [${total}] files failed (see their lines)`);
  }
}

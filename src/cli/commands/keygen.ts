import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { Command } from 'commander';
import {
  addKeyToRing,
  generateKeyRing,
  KEY_BYTES,
  serializeKeyRing,
  type KeyRing,
} from '../../stego/key-ring';
import { cliError } from '../cli-error';
import { loadKeyRing, printJson, writeFileAtomic } from '../cli-io';

interface KeygenOptions {
  readonly out: string;
  readonly force?: boolean;
  readonly add?: boolean;
  readonly id?: string;
}

const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function newKeyId(): string {
  return `k-${randomBytes(6).toString('hex')}`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Key ids and the active one: never key material. */
function describe(file: string, ring: KeyRing): Record<string, unknown> {
  return { keyFile: file, activeKeyId: ring.activeKeyId, keyIds: [...ring.keys.keys()] };
}

export async function runKeygen(options: KeygenOptions): Promise<void> {
  let ring: KeyRing;
  if (options.add === true) {
    // Rotation: a new active key; the old ones stay to open what they sealed.
    const current = await loadKeyRing(options.out);
    const id = options.id ?? newKeyId();
    if (current.keys.has(id)) {
      throw cliError('KEY_ID_EXISTS', `key id [${id}] is already in [${options.out}]`);
    }
    ring = addKeyToRing(current, id, random(KEY_BYTES), true);
  } else {
    if (options.force !== true && (await exists(options.out))) {
      throw cliError(
        'KEY_FILE_EXISTS',
        `[${options.out}] exists: use --force to replace it or --add to rotate`,
      );
    }
    ring = generateKeyRing(random, options.id);
  }
  const text = `${JSON.stringify(serializeKeyRing(ring), null, 2)}\n`;
  await writeFileAtomic(options.out, new Uint8Array(Buffer.from(text, 'utf8')), 0o600);
  printJson(describe(options.out, ring));
}

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('create a key ring file (AES-256 keys with ids; the active key seals)')
    .requiredOption('--out <keyfile>', 'key ring file to write (mode 0600)')
    .option('--force', 'replace an existing key file')
    .option('--add', 'rotate: add a new active key to the existing file, keeping the old ones')
    .option('--id <keyId>', 'id of the new key (default k-<random hex>)')
    .action(async (options: KeygenOptions) => runKeygen(options));
}

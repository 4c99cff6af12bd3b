#!/usr/bin/env node
/**
 * `stego-gateway`: hide, read and check a patient's identity in DICOM files from the command line.
 * JSON on stdout; errors as `{"error": {"code", "message"}}` on stderr, never a stack trace; exit
 * codes in cli-error.ts. Each command lives in its own file under commands/.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, errorJson, exitCodeFor } from './cli-error';

interface StartModule {
  startCommand(): Command;
}

function isStartModule(value: unknown): value is StartModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { startCommand?: unknown }).startCommand === 'function'
  );
}

/**
 * `start` brings up Orthanc and the gateway: it loads the whole gateway, so it is required only
 * when asked for, keeping the file commands quick and independent of it.
 */
function startCommand(): Command {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand (see above)
  const loaded: unknown = require('./commands/start');
  if (!isStartModule(loaded)) throw new Error('commands/start exports no startCommand');
  return loaded.startCommand();
}

/**
 * The file commands, required only when one of them may run: they load the pipeline and the DICOM
 * adapter (dcmjs and its codecs), half of the gateway's main-thread heap, which every full GC of a
 * `start` process would mark for nothing (its pipeline runs in worker threads).
 */
function fileCommands(): Command[] {
  const files = [
    ['keygen', 'keygenCommand'],
    ['embed', 'embedCommand'],
    ['extract', 'extractCommand'],
    ['verify', 'verifyCommand'],
    ['segment', 'segmentCommand'],
  ] as const;
  return files.map(([file, name]) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand (see above)
    const loaded: unknown = require(`./commands/${file}`);
    const factory = (loaded as Record<string, unknown> | null)?.[name];
    if (typeof factory !== 'function') throw new Error(`commands/${file} exports no ${name}`);
    return (factory as () => Command)();
  });
}

/** Commander's own messages go to stderr as JSON too; help stays plain text on stdout. */
function quiet(command: Command): Command {
  command.exitOverride();
  command.configureOutput({ writeErr: () => undefined });
  return command;
}

export function buildProgram(argv: readonly string[]): Command {
  const program = quiet(
    new Command('stego-gateway')
      .description('hide, read and check the patient identity in the background of DICOM images')
      .showHelpAfterError(false),
  );
  const commands = argv[2] === 'start' ? [startCommand()] : fileCommands();
  for (const c of commands) program.addCommand(quiet(c));
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const program = buildProgram(argv);
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return EXIT.OK;
      const message =
        error.code === 'commander.help'
          ? 'a command is required: keygen, embed, extract, verify, segment, start (see --help)'
          : error.message.replace(/^error: /, '');
      process.stderr.write(`${JSON.stringify({ error: { code: 'USAGE', message } })}\n`);
      return EXIT.OTHER;
    }
    const json = errorJson(error);
    process.stderr.write(`${JSON.stringify(json)}\n`);
    return exitCodeFor(json.error.code);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}

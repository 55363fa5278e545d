#!/usr/bin/env node
/**
 * `run-lifecycle-emulator`: starts the emulator, prints its base URL and closes cleanly on
 * SIGINT/SIGTERM. Usage errors exit with 2, start failures (port in use, corrupt data file) with 1.
 */
import { CLI_HELP_HINT, CLI_USAGE, parseCliArgs } from './cli-args.js';
import { startEmulator } from './emulator.js';

async function main(): Promise<void> {
  const parsed = parseCliArgs(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(CLI_USAGE);
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`run-lifecycle-emulator: ${parsed.message}\n${CLI_HELP_HINT}\n`);
    process.exitCode = 2;
    return;
  }
  const emulator = await startEmulator(parsed.options);
  process.stdout.write(
    `Run API emulator listening on ${emulator.baseURL}\nv3 API: ${emulator.v3BaseURL}{account}/{project}/\ncontrol API: ${emulator.origin}/_emulator/stats\n`,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => {
        process.stdout.write(`emulator stopped (${signal})\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`run-lifecycle-emulator: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`run-lifecycle-emulator: ${(error as Error).message}\n`);
  process.exitCode = 1;
});

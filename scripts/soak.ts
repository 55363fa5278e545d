/**
 * Fault-injection soak against the in-process emulator.
 *
 *   npm run soak                              seed 1, 200 users
 *   npm run soak -- --seed 7 --users 1000     any seed and size
 *   npm run soak -- --concurrency 50 --fault-rate 0.3 --json
 *
 * Simulated users (a seeded mix of reuse-per-session, reuse-across-sessions, reuse-by-tracking-key
 * with a runLimit, reuse-last-initialized, multiplayer and reuse-never) each run
 * `getRun → rm.run.do('step', [1]) → reset → (page reload) getRun`, pressing again after a
 * failure, while the emulator answers with seeded 503s, 429s with Retry-After, dropped sockets
 * (before and after processing), stalls past the client timeout and truncated JSON. The same
 * seed always draws the same fault schedule (the printed schedule fingerprint). Afterwards every
 * invariant of `scripts/soak/checks.ts` is checked per user against the emulator's runs and log.
 * Exits 1 when an invariant broke or a rejection went unhandled.
 */
import { formatReport } from './soak/report.js';
import { runSoak, SOAK_DEFAULTS, type SoakOptions } from './soak/run.js';

function parseArgs(argv: string[]): { options: Partial<SoakOptions>; json: boolean } {
  const options: Partial<SoakOptions> = {};
  let json = false;
  const number = (flag: string, value: string | undefined, { min = 0, integer = true } = {}): number => {
    const parsed = Number(value);
    if (value === undefined || !Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
      throw new Error(`${flag} needs a ${integer ? 'whole ' : ''}number ≥ ${min}, got ${value ?? 'nothing'}`);
    }
    return parsed;
  };
  for (let index = 0; index < argv.length; index += 1) {
    const flag = argv[index]!;
    const value = argv[index + 1];
    switch (flag) {
      case '--seed':
        options.seed = number(flag, value);
        index += 1;
        break;
      case '--users':
        options.users = number(flag, value, { min: 1 });
        index += 1;
        break;
      case '--contention-users':
        options.contentionUsers = number(flag, value);
        index += 1;
        break;
      case '--concurrency':
        options.concurrency = number(flag, value, { min: 1 });
        index += 1;
        break;
      case '--fault-rate':
        options.faultRate = number(flag, value, { integer: false });
        if (options.faultRate > 1) throw new Error('--fault-rate is a probability (0 to 1)');
        index += 1;
        break;
      case '--json':
        json = true;
        break;
      case '--help':
      case '-h':
        console.log('usage: npm run soak -- [--seed N] [--users N] [--contention-users N] [--concurrency N] [--fault-rate P] [--json]');
        console.log(
          `defaults: seed ${SOAK_DEFAULTS.seed}, users ${SOAK_DEFAULTS.users}, contention users ${SOAK_DEFAULTS.contentionUsers}, concurrency ${SOAK_DEFAULTS.concurrency}, fault rate ${SOAK_DEFAULTS.faultRate}`,
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${flag} (try --help)`);
    }
  }
  return { options, json };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`soak: ${(error as Error).message}`);
    process.exit(2);
  }
  const report = await runSoak(parsed.options);
  console.log(parsed.json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (report.violations.length > 0 || report.unhandledRejections.length > 0) process.exitCode = 1;
}

await main();

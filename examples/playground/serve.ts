/**
 * `npm run playground [-- --port <emulator port>] [-- --web-port <page port>]`: starts the Run API
 * emulator and the playground page on 127.0.0.1 and prints the page's URL. Ctrl-C stops both.
 */
import { portArgument } from '../dev-server.js';
import { startPlayground } from './server.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log('usage: npm run playground -- [--port <emulator port, default 0 = free>] [--web-port <page port, default 0 = free>]');
  process.exit(0);
}

try {
  const playground = await startPlayground({ port: portArgument(argv, 'port') ?? 0, webPort: portArgument(argv, 'web-port') ?? 0 });
  console.log(`run-lifecycle playground: ${playground.url}`);
  console.log(`Run API emulator:         ${playground.emulator.baseURL} (control API ${playground.emulator.origin}/_emulator/)`);
  console.log(`  Epicenter v3:           ${playground.emulator.v3BaseURL}{account}/{project}/… (the same store)`);
  console.log('Press Ctrl-C to stop.');
  const stop = () => {
    void playground.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`playground failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

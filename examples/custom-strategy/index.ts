/**
 * The favourite-run strategy in use, against the bundled emulator: `npx tsx examples/custom-strategy/index.ts`.
 *
 * The first getRun creates a run; marking it as the favourite and starting a second run (reset)
 * leaves two runs, and a later manager (a page reload) comes back to the favourite, not the newest.
 */
import { createMemorySessionStore, RunManager } from 'run-lifecycle/core';
import { createDevToken, startEmulator } from 'run-lifecycle/emulator';
import { favouriteRun } from './favourite.machine.js';

const emulator = await startEmulator({ variables: { price: 10 } });
// Node has no IndexedDB: keep session records in memory (without this the manager says so once).
const sessionStore = createMemorySessionStore();
const manager = () =>
  new RunManager({
    run: { account: 'acme', project: 'sim', model: 'model.py', baseURL: emulator.baseURL },
    session: { userId: 'u1', groupName: 'class-a', auth_token: createDevToken({ userId: 'u1', groupName: 'class-a' }) },
    sessionStore,
    strategy: favouriteRun,
    strategyOptions: { favourite: { favourite: true } },
  });

const rm = manager();
const first = await rm.getRun(['price']);
console.log(`first run ${first.id} (new: ${String(first.freshlyCreated)}), price ${String(first.variables?.price)}`);
await rm.run.save({ favourite: true });

const second = await rm.reset();
console.log(`reset: new run ${second.id}`);
rm.stop();

const reloaded = manager();
const again = await reloaded.getRun();
console.log(`after a reload: run ${again.id} — the favourite (${String(again.id === first.id)}), not the newest`);
reloaded.stop();
await emulator.close();

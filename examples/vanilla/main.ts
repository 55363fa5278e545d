/**
 * run-lifecycle without a framework: the page renders from `rm.actor.subscribe`, the buttons call
 * the promise API. No `session` option: the manager reads the `epicenterjs.session` cookie, as
 * Epicenter.js does.
 *
 * Run it with `npm run example -- vanilla` (a local Run API emulator, this page bundled, a URL printed).
 */
import { RunManager } from 'run-lifecycle';

const { baseURL } = (await (await fetch('/config.json')).json()) as { baseURL: string };
const rm = new RunManager({
  run: { account: 'acme', project: 'sim', model: 'model.py', baseURL },
  strategy: 'reuse-per-session',
});

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const app = document.querySelector<HTMLElement>('main.app')!;
const getRunButton = $<HTMLButtonElement>('get-run');
const resetButton = $<HTMLButtonElement>('reset');

rm.actor.subscribe((snapshot) => {
  const busy = snapshot.hasTag('busy');
  const { run, error } = snapshot.context;
  app.dataset.busy = String(busy);
  $('busy').hidden = !busy;
  getRunButton.disabled = busy;
  resetButton.disabled = busy;
  $('run-id').textContent = run ? run.id : 'none yet';
  $('fresh').textContent = run ? (run.freshlyCreated ? ' (created)' : ' (reused)') : '';
  const failed = snapshot.hasTag('error') && error !== null;
  $('error').hidden = !failed;
  $('error').textContent = failed ? `${error.type}: ${error.message}` : '';
});

// The outcome is rendered from the actor's state; the promise only needs its rejection handled.
const ignore = () => undefined;
getRunButton.addEventListener('click', () => void rm.getRun().catch(ignore));
resetButton.addEventListener('click', () => void rm.reset().catch(ignore));

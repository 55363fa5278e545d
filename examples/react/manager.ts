/**
 * One RunManager for the whole React app, made once at module level: React may mount components
 * twice (StrictMode), and a stopped manager stays stopped, so components never own it.
 * No `session` option: the manager reads the `epicenterjs.session` cookie, as Epicenter.js does.
 */
import { RunManager } from 'run-lifecycle';

const { baseURL } = (await (await fetch('/config.json')).json()) as { baseURL: string };

export const rm = new RunManager({
  run: { account: 'acme', project: 'sim', model: 'model.py', baseURL },
  strategy: 'reuse-per-session',
});

/** The RunService that speaks both API generations: Epicenter v2 and, with `apiVersion: 3`, v3. */
import { createRunApiV3 } from './run-api-v3.js';
import { RunService as V2RunService, v2Clients, type ApiClients } from './run-service.js';
import { createV3Core, type V3Session } from './v3.js';
import { createWorldApiV3 } from './world-api-v3.js';

/** v3 clients for `apiVersion: 3`, sharing one core so a session renewed for one request serves the rest; v2 otherwise. */
export const epicenterClients: ApiClients = (config, options, v3Session) => {
  if (config.apiVersion !== 3) return v2Clients(config, options, v3Session);
  const v3Options = {
    ...options,
    model: config.model,
    session: () => v3Session.view(),
    onSession: (session: V3Session) => v3Session.renewed(session),
  };
  const core = createV3Core(v3Options);
  return { api: createRunApiV3(v3Options, core), worlds: () => createWorldApiV3(v3Options, core) };
};

/**
 * A Run API client bound to a current run, as `rm.run`, on Epicenter v2 or (`apiVersion: 3`) v3.
 *
 * @example
 * ```ts
 * const run = new RunService({ account: 'acme', project: 'sim', model: 'model.py', apiVersion: 3, token });
 * await run.load(runKey);
 * await run.do('step', [1]);
 * ```
 */
export class RunService extends V2RunService {
  protected static override clients: ApiClients = epicenterClients;
}

/**
 * `run-lifecycle/v3`: Epicenter v3 for the core entry, whose own RunService speaks v2 only (so a
 * v2 bundle carries no v3 code). The root entry needs none of this: `run.apiVersion: 3` just works.
 *
 * @example
 * ```ts
 * import { RunManager } from 'run-lifecycle/core';
 * import { reusePerSession } from 'run-lifecycle/strategies';
 * import { RunService } from 'run-lifecycle/v3';
 *
 * const rm = new RunManager({
 *   run: new RunService({ account: 'acme', project: 'sim', model: 'model.py', apiVersion: 3 }),
 *   session: { userId: userKey, groupKey, groupName, auth_token: token },
 *   strategy: reusePerSession,
 * });
 * ```
 *
 * @module run-lifecycle/v3
 */
export { RunService } from './services/run-service-v3.js';
export type { V3Session } from './services/v3.js';
export type { SelfAssignOptions } from './services/api-types.js';
export { readSessionCookie, V3_SESSION_COOKIE } from './services/session-cookie.js';

/**
 * The official v3 client's baseline of figure 1: a minimal, faithful reproduction of
 * `runAdapter.getWithStrategy` of Forio's epicenter-libs 3.34.1 (`src/adapters/run.ts`, with the
 * `create`, `query` and `getVariables` it calls and the `Router` request of `src/utils/router.ts`),
 * in plain `fetch` against the emulator's `/api/v3/{account}/{project}/` routes.
 *
 * What it sends:
 *
 * - `reuse-across-sessions`: `GET run/{scopeBoundary}/{scopeKey}/{model}?sort=-run.created&max=1`
 *   (no `run.hidden` filter; a user filter only when the scope carries `userKey`), then, when
 *   `values` is empty, `POST run`; else `values[0]` as it is (no hidden check);
 * - `reuse-never`: `POST run`;
 * - every other strategy throws `Invalid run strategy.` (reuse-by-tracking-key and multiplayer
 *   are typed but never written; the rest do not exist); there is no reset and no caching.
 *
 * `getWithStrategy` takes no variable names: an application that wants values calls
 * `getVariables(runKey, names)` after it, `POST run/variable/{runKey}` `{ include: 'a;b' }`,
 * answered with the values in `include` order. That is what {@link OfficialV3Client.getRun} does.
 */

/** The strategies `getWithStrategy` implements. */
export type OfficialV3Strategy = 'reuse-across-sessions' | 'reuse-never';

/** `GenericScope` plus the optional `userKey` `create` and `query` accept. */
export interface OfficialV3Scope {
  scopeBoundary: 'GROUP' | 'WORLD' | 'PROJECT' | 'EPISODE';
  scopeKey: string;
  userKey?: string;
}

/** The part of the v3 `UserSession` these calls read: the token and the user's key. */
export interface OfficialV3Session {
  token: string;
  userKey: string;
}

/** A `RunReadOutView` as far as the strategies read it. */
export interface OfficialV3Run {
  runKey: string;
  variables?: Record<string, unknown>;
  [field: string]: unknown;
}

interface Page<Item> {
  firstResult: number;
  maxResults: number;
  totalResults: number;
  values: Item[];
}

/** What the official client throws for a non-2xx answer (`Fault`: status and the server's code). */
export class OfficialV3Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'OfficialV3Fault';
  }
}

export interface OfficialV3Options {
  /** `{origin}/api/v3/` (the emulator's `v3BaseURL`). */
  baseURL: string;
  account: string;
  project: string;
  session: OfficialV3Session;
}

/** `parseQuery`: an object's entries, arrays as repeated params, nullish values skipped. */
function searchParams(query: Record<string, unknown>): URLSearchParams {
  const pairs: string[][] = [];
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) pairs.push(...value.map((item) => [key, String(item)]));
    else if (value !== undefined && value !== null) pairs.push([key, String(value)]);
  }
  return new URLSearchParams(pairs);
}

/**
 * The official v3 client's `getWithStrategy` and `getVariables` for one session.
 *
 * @example
 * ```ts
 * const client = new OfficialV3Client({ baseURL: emulator.v3BaseURL, account: 'acme', project: 'sim', session: { token, userKey: 'u1' } });
 * const run = await client.getWithStrategy('reuse-across-sessions', 'model.py', { scopeBoundary: 'GROUP', scopeKey: groupKey });
 * ```
 */
export class OfficialV3Client {
  constructor(private readonly options: OfficialV3Options) {}

  /** `Router.request`: `Bearer {session.token}`, a JSON body when there is one, 204 → undefined, JSON or a fault. */
  private async request<T>(
    method: string,
    uriComponent: string,
    init: { query?: Record<string, unknown>; body?: unknown } = {},
  ): Promise<T> {
    const { baseURL, account, project, session } = this.options;
    const url = new URL(`${baseURL}${account}/${project}${uriComponent}`);
    const search = searchParams(init.query ?? {}).toString();
    if (search !== '') url.search = search;
    const headers: Record<string, string> = {};
    let body: string | null = null;
    if (init.body) {
      headers['Content-type'] = 'application/json; charset=UTF-8';
      body = JSON.stringify(init.body);
    }
    headers.Authorization = `Bearer ${session.token}`;
    const response = await fetch(url.toString(), { method, cache: 'no-cache', redirect: 'follow', headers, body });
    if (response.status === 204) return undefined as T;
    const contentType = response.headers.get('content-type');
    if (!contentType || !contentType.includes('application/json')) {
      throw new Error(`Response content-type '${contentType}' does not include 'application/json' (${method} ${url.toString()})`);
    }
    const json: unknown = await response.json();
    if (response.status >= 200 && response.status < 400) return json as T;
    const fault = (json ?? {}) as { status?: number; message?: string; information?: { code?: string } };
    throw new OfficialV3Fault(fault.status ?? response.status, fault.information?.code, fault.message ?? `HTTP ${response.status}`);
  }

  /** `runAdapter.create` (no permit, tracking key or contexts given): `POST run`. */
  create(model: string, scope: OfficialV3Scope): Promise<OfficialV3Run> {
    const { scopeBoundary, scopeKey, userKey } = scope;
    return this.request<OfficialV3Run>('POST', '/run', {
      body: {
        scope: { scopeBoundary, scopeKey, userKey: scopeBoundary === 'WORLD' ? undefined : (userKey ?? this.options.session.userKey) },
        permit: undefined,
        morphology: 'MANY',
        trackingKey: undefined,
        modelFile: model,
        modelContext: {},
        executionContext: {},
        ephemeral: undefined,
      },
    });
  }

  /** `runAdapter.query` with a scope: `GET run/{boundary}/{key}/{model}`, variables mapped back to names. */
  async query(
    model: string,
    options: { scope: OfficialV3Scope; sort?: string[]; max?: number; variables?: string[] },
  ): Promise<Page<OfficialV3Run>> {
    const { scope, sort = [], max, variables = [] } = options;
    const filter: string[] = [];
    if (scope.userKey) filter.push(`run.userKey=${scope.userKey}`);
    const page = await this.request<Page<OfficialV3Run>>('GET', `/run/${scope.scopeBoundary}/${scope.scopeKey}/${model}`, {
      query: {
        filter: filter.join(';') || undefined,
        sort: sort.join(';') || undefined,
        var: variables.join(';') || undefined,
        meta: undefined,
        first: undefined,
        max,
        timeout: undefined,
        includeEpisodes: undefined,
      },
    });
    const values = page.values.map((run) => {
      const list = Array.isArray(run.variables) ? (run.variables as unknown[]) : undefined;
      run.variables = Object.fromEntries(variables.map((name, index) => [name, list?.[index]]));
      return run;
    });
    return { ...page, values };
  }

  /** `runAdapter.getVariables` for one run: `POST run/variable/{runKey}` `{ include }`, values in `include` order → object. */
  async getVariables(runKey: string, variables: string[]): Promise<Record<string, unknown>> {
    const values = await this.request<unknown[]>('POST', `/run/variable/${runKey}`, {
      query: { ritual: undefined, timeout: undefined },
      body: { include: variables.join(';') },
    });
    return Object.fromEntries(variables.map((name, index) => [name, values[index]]));
  }

  /** `runAdapter.getWithStrategy`, as in 3.34.1 (its `initOperations` lines are commented out there). */
  async getWithStrategy(strategy: string, model: string, scope: OfficialV3Scope): Promise<OfficialV3Run> {
    if (strategy === 'reuse-across-sessions') {
      const {
        values: [lastRun],
      } = await this.query(model, { scope, sort: ['-run.created'], max: 1 });
      if (!lastRun) return this.create(model, scope);
      return lastRun;
    } else if (strategy === 'reuse-never') {
      return this.create(model, scope);
    }
    throw new Error('Invalid run strategy.');
  }

  /**
   * What an application on the official client does for `getRun(variables)`: `getWithStrategy`, then,
   * when names are asked for, `getVariables` on the run it returned.
   */
  async getRun(strategy: OfficialV3Strategy, model: string, scope: OfficialV3Scope, variables?: string[]): Promise<OfficialV3Run> {
    const run = await this.getWithStrategy(strategy, model, scope);
    if (variables === undefined || variables.length === 0) return run;
    return { ...run, variables: await this.getVariables(run.runKey, variables) };
  }
}

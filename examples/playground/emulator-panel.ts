/**
 * The emulator side of the playground, over its control API (`/_emulator/…`): the request list
 * (polled; `/v2/…` and `/api/v3/…` requests alike, only CORS preflights can be hidden), the latency
 * slider, fault injection (fail next request with 503, drop next connection) and reset-and-reseed.
 */
import type { EmulatorStats, RequestLogEntry } from 'run-lifecycle/emulator';
import { $, el } from './dom.js';
import { SEED } from './presets.js';

/** Short run ids in paths: `…` and the last six characters. */
const shortIds = (text: string) => text.replace(/\b[0-9a-f]{20,}\b/gi, (id) => `…${id.slice(-6)}`);

/** Which API a request went to: `v2` (`/v2/…`), `v3` (`/api/v3/…`) or `other` (e.g. an unknown path). */
function apiOf(path: string): 'v2' | 'v3' | 'other' {
  if (path.startsWith('/api/v3/')) return 'v3';
  return path.startsWith('/v2/') ? 'v2' : 'other';
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

type ArmedFault = { kind: 'fail' | 'drop'; label: string; afterSeq: number };

/**
 * Wires the emulator controls and the request list.
 *
 * @example
 * ```ts
 * const panel = startEmulatorPanel('http://127.0.0.1:8080/_emulator/');
 * await panel.refresh();
 * ```
 */
export function startEmulatorPanel(controlURL: string): { refresh(): Promise<void> } {
  const list = $<HTMLOListElement>('requests');
  const count = $<HTMLSpanElement>('request-count');
  const showPreflights = $<HTMLInputElement>('show-preflights');
  const armedText = $<HTMLParagraphElement>('armed');
  const latency = $<HTMLInputElement>('latency');
  const latencyValue = $<HTMLOutputElement>('latency-value');

  let entries: RequestLogEntry[] = [];
  let armed: ArmedFault[] = [];
  const consumed = new Set<number>();

  async function control(path: string, method = 'GET', body?: unknown): Promise<unknown> {
    const response = await fetch(`${controlURL}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} /_emulator/${path} answered ${response.status}`);
    return response.status === 204 ? undefined : response.json();
  }

  function lastSeq(): number {
    return entries.at(-1)?.seq ?? 0;
  }

  function renderArmed(): void {
    // A fault is used up by the first request after arming that the log shows it on.
    armed = armed.filter((fault) => {
      const hit = entries.find((entry) => entry.seq > fault.afterSeq && !consumed.has(entry.seq) && entry.fault?.startsWith(fault.kind));
      if (hit) consumed.add(hit.seq);
      return !hit;
    });
    armedText.hidden = armed.length === 0;
    armedText.textContent = armed.length ? `Armed: ${armed.map((fault) => fault.label).join(', ')}` : '';
  }

  function renderRequests(): void {
    const shown = entries.filter((entry) => showPreflights.checked || entry.method !== 'OPTIONS');
    count.textContent = String(shown.length);
    list.replaceChildren(
      ...shown
        .slice(-60)
        .reverse()
        .map((entry) => {
          const item = el('li', `request${entry.status >= 400 || entry.status === 0 ? ' failed' : ''}`);
          item.dataset.method = entry.method;
          item.dataset.status = String(entry.status);
          item.dataset.api = apiOf(entry.path);
          item.title = `${entry.method} ${decodePath(entry.url)}`;
          const meta = [entry.user ?? 'anonymous', `${Math.round(entry.durationMs)} ms`, entry.fault ? `fault ${entry.fault}` : '']
            .filter(Boolean)
            .join(' · ');
          item.append(
            el('span', `method m-${entry.method}`, entry.method),
            el('span', 'path', shortIds(decodePath(entry.url))),
            el('span', `req-status s-${String(entry.status).charAt(0)}`, entry.status === 0 ? 'dropped' : String(entry.status)),
            el('span', 'meta', meta),
          );
          return item;
        }),
    );
    if (shown.length === 0) list.replaceChildren(el('li', 'muted empty', 'No requests yet.'));
  }

  async function refresh(): Promise<void> {
    const fetched = (await control('requests')) as RequestLogEntry[];
    if (fetched.length === entries.length && fetched.at(-1)?.seq === lastSeq()) return;
    entries = fetched;
    renderRequests();
    renderArmed();
  }

  function arm(kind: ArmedFault['kind'], label: string, spec: Record<string, unknown>): void {
    const afterSeq = lastSeq();
    void control('faults', 'POST', spec).then(() => {
      armed.push({ kind, label, afterSeq });
      renderArmed();
    });
  }

  $('fail-next').addEventListener('click', () => arm('fail', 'next request fails with 503', { kind: 'fail', status: 503 }));
  $('drop-next').addEventListener('click', () => arm('drop', 'next connection is dropped', { kind: 'drop' }));
  const serverDown = $<HTMLInputElement>('server-down');
  // JSON has no Infinity: a large count stands for "until cleared".
  const EVERY = 1_000_000;
  const clearFaults = () =>
    control('faults', 'DELETE').then(() => {
      armed = [];
      serverDown.checked = false;
      serverDown.dataset.applied = 'false';
      renderArmed();
    });
  serverDown.addEventListener('change', () => {
    if (!serverDown.checked) return void clearFaults();
    void control('faults', 'POST', { kind: 'drop', times: EVERY }).then(() => (serverDown.dataset.applied = 'true'));
  });
  $('clear-faults').addEventListener('click', () => void clearFaults());
  $('reset-emulator').addEventListener('click', () => {
    void control('reset', 'POST')
      .then(() => control('seed', 'POST', SEED))
      .then(() => {
        armed = [];
        serverDown.checked = false;
        serverDown.dataset.applied = 'false';
        entries = [];
        renderRequests();
        renderArmed();
      });
  });
  latency.addEventListener('input', () => (latencyValue.textContent = `${latency.value} ms`));
  latency.addEventListener('change', () => {
    latencyValue.textContent = `${latency.value} ms`;
    void control('latency', 'PUT', { ms: Number(latency.value) });
  });
  showPreflights.addEventListener('change', renderRequests);

  renderRequests();
  void control('stats').then((stats) => {
    latency.value = String((stats as EmulatorStats).latencyMs);
    latencyValue.textContent = `${latency.value} ms`;
  });
  setInterval(() => void refresh().catch(() => undefined), 500);
  return { refresh };
}

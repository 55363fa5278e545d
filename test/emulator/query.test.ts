import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { compileFilter, parseMatrix } from '../../src/emulator/matrix.js';
import { sortRuns } from '../../src/emulator/query.js';
import { RunStore } from '../../src/emulator/store.js';
import type { Run } from '../../src/types.js';
import { call, createRun, RUNS, TOKEN_U2, useEmulator } from './helpers.js';

const emu = useEmulator();
let emulator: Emulator;
let runs: any[];

beforeAll(async () => {
  emulator = await emu.start();
  runs = [
    await createRun(emulator, { scope: { group: 'g1', trackingKey: 'tk1' } }),
    await createRun(emulator, { scope: { group: 'g1', trackingKey: 'x;user.id=u2' } }),
    await createRun(emulator, { scope: { group: 'g2' } }),
    await createRun(emulator, { scope: { group: 'g1', trackingKey: 'tk1' } }, TOKEN_U2),
  ];
  await call(emulator, 'PATCH', `${RUNS}${runs[0].id}/`, { body: { trashed: true, variables: { price: 5 }, rank: 3 } });
  await call(emulator, 'PATCH', `${RUNS}${runs[1].id}/`, { body: { saved: true, variables: { price: 12 }, rank: 1 } });
  await call(emulator, 'PATCH', `${RUNS}${runs[2].id}/`, { body: { variables: { price: 20 }, rank: 3 } });
  runs.push(await createRun(emulator, { scope: { group: 'g1' } }));
  await call(emulator, 'POST', 'run/acme/other/', { body: { model: 'model.py' } });
});
afterAll(() => emu.stop());
beforeEach(() => emulator.clearLog());

async function ids(path: string, init?: Parameters<typeof call>[3]): Promise<string[]> {
  const response = await call(emulator, 'GET', path, init);
  expect(response.status, `${path}: ${response.text}`).toBe(200);
  return response.body.map((run: { id: string }) => run.id);
}

describe('filtering', () => {
  it('the empty matrix matches all runs of the project (and only those)', async () => {
    expect(await ids(`${RUNS};/`)).toHaveLength(5);
    expect(await ids(RUNS)).toHaveLength(5);
    expect(await ids('run/acme/other/;/')).toHaveLength(1);
  });

  it('filters by user.id, scope keys, booleans and model', async () => {
    expect(await ids(`${RUNS};user.id=u2/`)).toEqual([runs[3].id]);
    expect(await ids(`${RUNS};scope.group=g1;user.id=u1;trashed=false/`)).toHaveLength(2);
    expect(await ids(`${RUNS};saved=true/`)).toEqual([runs[1].id]);
    expect(await ids(`${RUNS};model=model.py;scope.trackingKey=tk1/`)).toEqual([runs[0].id, runs[3].id]);
    expect(await ids(`${RUNS};scope.trackingKey=null/`)).toHaveLength(2);
  });

  it('matches a percent-encoded value literally: x%3Buser.id%3Du2 cannot widen the query', async () => {
    expect(await ids(`${RUNS};scope.trackingKey=x%3Buser.id%3Du2/`)).toEqual([runs[1].id]);
    expect(await ids(`${RUNS};scope.trackingKey=x;user.id=u2/`)).toEqual([]);
    expect(await ids(`${RUNS};scope%2EtrackingKey=tk1;user%2Eid=u1/`)).toEqual([runs[0].id]);
  });

  it('ORs repeated keys and ANDs the rest', async () => {
    expect(await ids(`${RUNS};id=${runs[0].id};id=${runs[2].id}/`)).toEqual([runs[0].id, runs[2].id]);
    expect(await ids(`${RUNS};user.id=u1;user.id=u2;scope.trackingKey=tk1/`)).toEqual([runs[0].id, runs[3].id]);
    expect(await ids(`${RUNS};id=${runs[0].id};id=${runs[2].id};trashed=false/`)).toEqual([runs[2].id]);
  });

  it('applies the ordering operators numerically, also as fetch sends them (%3C, %3E)', async () => {
    expect(await ids(`${RUNS};.price>10/`)).toEqual([runs[1].id, runs[2].id]);
    expect(await ids(`${RUNS};.price>=12;.price<20/`)).toEqual([runs[1].id]);
    expect(await ids(`${RUNS};.price<=5/`)).toEqual([runs[0].id]);
    expect(await ids(`${RUNS};.price=12/`)).toEqual([runs[1].id]);
    expect(await ids(`${RUNS};rank!=3;.price!=null/`)).toEqual([runs[1].id]);
    const sent = emulator.requests.map((entry) => entry.path);
    expect(sent.some((path) => path.includes('%3E'))).toBe(true);
  });
});

describe('sorting, paging and Content-Range', () => {
  it('sorts by a dotted field, ties in creation order; desc is the exact reverse', async () => {
    const asc = await ids(`${RUNS};/?sort=rank`);
    expect(asc).toHaveLength(5);
    expect(asc[0]).toBe(runs[3].id);
    expect(asc.slice(2)).toEqual([runs[1].id, runs[0].id, runs[2].id]);
    const desc = await ids(`${RUNS};/?sort=rank&direction=desc`);
    expect(desc).toEqual([...asc].reverse());
    const newest = await ids(`${RUNS};user.id=u1/?sort=created&direction=desc`);
    expect(newest[0]).not.toBe(runs[0].id);
    expect(newest[newest.length - 1]).toBe(runs[0].id);
    const byPrice = await ids(`${RUNS};/?sort=.price&direction=desc`);
    expect(byPrice.slice(0, 3)).toEqual([runs[2].id, runs[1].id, runs[0].id]);
  });

  it('pages with startrecord/endrecord in either case and with a Range header', async () => {
    const all = await ids(`${RUNS};/?sort=created&direction=desc`);
    const lower = await call(emulator, 'GET', `${RUNS};scope.group=g1;user.id=u1/?startrecord=0&endrecord=0&sort=created&direction=desc`);
    expect(lower.body).toHaveLength(1);
    expect(lower.headers.get('content-range')).toBe('records 0-0/3');
    const camel = await call(emulator, 'GET', `${RUNS};/?startRecord=1&endRecord=2&sort=created&direction=desc`);
    expect(camel.body.map((run: { id: string }) => run.id)).toEqual(all.slice(1, 3));
    expect(camel.headers.get('content-range')).toBe('records 1-2/5');
    const ranged = await call(emulator, 'GET', `${RUNS};/?sort=created&direction=desc`, { headers: { Range: 'records 3-9' } });
    expect(ranged.body.map((run: { id: string }) => run.id)).toEqual(all.slice(3));
    expect(ranged.headers.get('content-range')).toBe('records 3-4/5');
    const everything = await call(emulator, 'GET', `${RUNS};/`);
    expect(everything.headers.get('content-range')).toBe('records 0-4/5');
  });

  it('answers records 0-0/0 for no matches and records */total past the end', async () => {
    const none = await call(emulator, 'GET', `${RUNS};user.id=nobody/`);
    expect(none.body).toEqual([]);
    expect(none.headers.get('content-range')).toBe('records 0-0/0');
    const past = await call(emulator, 'GET', `${RUNS};/?startrecord=10&endrecord=12`);
    expect(past.body).toEqual([]);
    expect(past.headers.get('content-range')).toBe('records */5');
  });

  it('refuses bad paging and directions with 400, and clamps huge numbers', async () => {
    for (const query of ['startrecord=-1', 'endrecord=abc', 'startrecord=3&endrecord=1', 'direction=sideways', 'startrecord=1e3']) {
      expect((await call(emulator, 'GET', `${RUNS};/?${query}`)).status, query).toBe(400);
    }
    expect((await call(emulator, 'GET', `${RUNS};/`, { headers: { Range: 'bytes=0-1' } })).status).toBe(400);
    const huge = await call(emulator, 'GET', `${RUNS};/?startrecord=0&endrecord=99999999999999999999999`);
    expect(huge.status).toBe(200);
    expect(huge.body).toHaveLength(5);
  });

  it('fills variables with only the included names, and leaves them out without include', async () => {
    const response = await call(emulator, 'GET', `${RUNS};saved=true/?include=price,nope`);
    expect(response.body[0].variables).toEqual({ price: 12 });
    const plain = await call(emulator, 'GET', `${RUNS};saved=true/`);
    expect(plain.body[0].variables).toBeNull();
  });
});

describe('scale', () => {
  it('answers user.id queries over 10,000 runs from the index', async () => {
    const local = useEmulator();
    const big = await local.start();
    try {
      big.seed({
        runs: Array.from({ length: 10_000 }, (_, index) => ({
          account: 'acme',
          project: 'sim',
          model: 'model.py',
          user: { id: `user${index}` },
          scope: { group: 'g1' },
        })),
      });
      const started = performance.now();
      for (let index = 0; index < 200; index += 1) {
        const response = await call(
          big,
          'GET',
          `${RUNS};scope.group=g1;user.id=user${index * 37}/?startrecord=0&endrecord=0&sort=created&direction=desc`,
        );
        expect(response.body).toHaveLength(1);
        expect(response.headers.get('content-range')).toBe('records 0-0/1');
      }
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await local.stop();
    }
  });

  it('orders a short page exactly like a full sort', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values = [undefined, null, 1, 2, 2, 3.5, 'a', 'b', true, false, { x: 1 }];
    const matches = Array.from({ length: 400 }, (_, seq) => ({
      seq,
      run: { id: `r${seq}`, rank: values[Math.floor(random() * values.length)] },
    }));
    for (const query of ['sort=rank', 'sort=rank&direction=desc', 'direction=desc', '']) {
      const params = new URLSearchParams(query);
      const full = sortRuns(matches, params).map(({ seq }) => seq);
      for (const limit of [1, 2, 5, 60, 99]) {
        expect(
          sortRuns(matches, params, limit).map(({ seq }) => seq),
          `${query} ${limit}`,
        ).toEqual(full.slice(0, limit));
      }
    }
  });

  it("evaluates a user.id filter only on that user's runs", () => {
    const store = new RunStore();
    for (let index = 0; index < 1000; index += 1) {
      store.create({ account: 'acme', project: 'sim', model: 'm', scope: null, files: null, user: { id: `user${index % 100}` } });
    }
    const filter = compileFilter(parseMatrix(';user.id=user7;user.id=user9;trashed=false'));
    let evaluated = 0;
    const counting = { ...filter, matches: (run: Run) => ((evaluated += 1), filter.matches(run)) };
    const found = store.find('acme', 'sim', counting);
    expect(found).toHaveLength(20);
    expect(evaluated).toBe(20);
    expect(found.map(({ seq }) => seq)).toEqual([...found.map(({ seq }) => seq)].sort((a, b) => a - b));
    expect(store.find('acme', 'other', counting)).toEqual([]);
  });
});

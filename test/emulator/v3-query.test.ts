import { beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { call, RUNS, TOKEN_U2, useEmulator } from './helpers.js';
import { createV3Run, fault, G1_KEY, V3_U2, v3 } from './v3-helpers.js';

const emu = useEmulator({
  worlds: [{ id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] }],
});

/** Six runs of g1 (model.py unless said), made once: the queries below only read. */
let runs: any[];
let emulator: Emulator;
beforeAll(async () => {
  emulator = await emu.start();
  runs = [];
  runs.push(await createV3Run(emulator, { trackingKey: 'Alpha' }));
  runs.push(await createV3Run(emulator, { trackingKey: 'beta' }));
  runs.push(await createV3Run(emulator, { trackingKey: 'alpha' }, V3_U2));
  runs.push(await createV3Run(emulator, { modelFile: 'other.py' }));
  runs.push(await createV3Run(emulator, {}, V3_U2));
  // A v2 run of the same group and model is part of the same store.
  const v2 = await call(emulator, 'POST', RUNS, {
    token: TOKEN_U2,
    body: { model: 'model.py', scope: { group: 'g1', trackingKey: 'gamma' } },
  });
  runs.push((await v3(emulator, 'GET', `run/${v2.body.id}`)).body);
  const scores = [7, 3, 12, 1, 5, 9];
  for (const [index, run] of runs.entries()) {
    await v3(emulator, 'PATCH', `run/variable/${run.runKey}`, { body: { score: scores[index], name: `Run ${index}` } });
    await v3(emulator, 'PATCH', `run/meta/${run.runKey}`, {
      body: { set: { level: index % 2, isInitComplete: index < 3, tags: [`t${index}`] } },
    });
  }
  await v3(emulator, 'PATCH', `run/${runs[1].runKey}`, { body: { hidden: true } });
  await v3(emulator, 'PATCH', `run/${runs[2].runKey}`, { body: { marked: true } });
  await v3(emulator, 'POST', 'run/world/w1', { body: { modelFile: 'model.py', morphology: 'MANY' } });
  return () => emu.stop();
});

const page = (query: string, scope = `GROUP/${G1_KEY}/model.py`) => v3(emulator, 'GET', `run/${scope}${query === '' ? '' : `?${query}`}`);
const keys = async (query: string, scope?: string) => {
  const response = await page(query, scope);
  expect(response.status, response.text).toBe(200);
  return response.body.values.map((run: any) => runs.findIndex((one) => one.runKey === run.runKey));
};
const encoded = (filter: string) => `filter=${encodeURIComponent(filter)}`;

describe('GET run/{boundary}/{scopeKey}/{model}', () => {
  it('answers a page of the scope and model in creation order', async () => {
    const response = await page('');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({ firstResult: 0, maxResults: 200, totalResults: 5 });
    expect(response.body.values[0]).toMatchObject({ runKey: runs[0].runKey, scope: { scopeBoundary: 'GROUP', scopeKey: G1_KEY } });
    expect('variables' in response.body.values[0]).toBe(false);
    expect(await keys('')).toEqual([0, 1, 2, 4, 5]);
    expect(await keys('', `GROUP/${G1_KEY}/other.py`)).toEqual([3]);
    expect(await keys('', 'GROUP/key-g2/model.py')).toEqual([]);
    expect(await keys('', 'group/key-g1/model.py')).toEqual([0, 1, 2, 4, 5]);
    const world = await page('', 'WORLD/w1/model.py');
    expect(world.body.totalResults).toBe(1);
    expect(world.body.values[0].scope).toEqual({ scopeBoundary: 'WORLD', scopeKey: 'w1' });
    expect((await page('', 'EPISODE/e1/model.py')).body).toEqual(fault(400, 'BAD_REQUEST'));
  });

  it('GET run/in/{groupName}/{model} covers the group and its worlds', async () => {
    const response = await page('', 'in/g1/model.py');
    expect(response.body.totalResults).toBe(6);
    expect((await page('', 'in/g2/model.py')).body.totalResults).toBe(0);
  });

  it('filters by run attributes, variables and metadata with every operator', async () => {
    expect(await keys(encoded('run.userKey=u2'))).toEqual([2, 4, 5]);
    expect(await keys(encoded('run.userKey=U2'))).toEqual([2, 4, 5]);
    expect(await keys(encoded('run.userKey|=u1|nobody;run.hidden=false'))).toEqual([0]);
    expect(await keys(encoded('[run.userKey=u1;run.marked=true]'))).toEqual([0, 1, 2]);
    expect(await keys(encoded('run.userKey=null'))).toEqual([]);
    expect((await page(encoded('run.userKey=null'), 'WORLD/w1/model.py')).body.totalResults).toBe(1);
    expect(await keys(encoded('run.hidden=false'))).toEqual([0, 2, 4, 5]);
    expect(await keys(encoded('run.marked=TRUE'))).toEqual([2]);
    expect(await keys(encoded('run.trackingKey=ALPHA'))).toEqual([0, 2]);
    expect(await keys(encoded('run.trackingKey!=alpha'))).toEqual([1, 4, 5]);
    expect(await keys(encoded('run.trackingKey=alpha;run.userKey=u1'))).toEqual([0]);
    expect(await keys(encoded('var.score>5'))).toEqual([0, 2, 5]);
    expect(await keys(encoded('var.score>=7;var.score<12'))).toEqual([0, 5]);
    expect(await keys(encoded('var.score<=3'))).toEqual([1]);
    expect(await keys(encoded('var.score=12'))).toEqual([2]);
    expect(await keys(encoded('var.name=run 4'))).toEqual([4]);
    expect(await keys(encoded('meta.level=1'))).toEqual([1, 5]);
    expect(await keys(encoded('meta.isInitComplete=true;run.hidden=false'))).toEqual([0, 2]);
    expect(await keys(encoded('meta.tags=t4'))).toEqual([4]);
    expect(await keys(encoded('run.trackingKey*=true'))).toEqual([0, 1, 2, 5]);
    expect(await keys(encoded('run.trackingKey*=false'))).toEqual([4]);
    expect(await keys(encoded('run.trackingKey|=beta|gamma'))).toEqual([1, 5]);
    expect(await keys(encoded('var.score|=1|3|9'))).toEqual([1, 5]);
    expect(await keys(encoded('var.name~=run*4'))).toEqual([4]);
    expect(await keys(encoded('run.trackingKey^=a*'))).toEqual([1, 4, 5]);
    expect(await keys(encoded('[run.userKey=u1;var.score>10]'))).toEqual([0, 1, 2]);
    expect(await keys(encoded('run.hidden=false;[run.trackingKey=beta;(run.userKey=u2;var.score<6)]'))).toEqual([4]);
    expect(await keys(`${encoded('run.userKey=u2')}&${encoded('var.score>6')}`)).toEqual([2, 5]);
    expect(await keys(encoded(`run.created>=${runs[2].created}`))).toEqual([2, 4, 5]);
    expect(await keys(encoded(`run.created<${runs[1].created}`))).toEqual([0]);
    expect(await keys(encoded('run.scope.userKey=u1;run.address.groupName=g1;run.scopeBoundary=GROUP'))).toEqual([0, 1]);
    expect(await keys(encoded(';;'))).toEqual([0, 1, 2, 4, 5]);
  });

  it('answers 400 BAD_REQUEST for malformed filters, sorts and pages', async () => {
    for (const query of [
      encoded('run.hidden'),
      encoded('hidden=false'),
      encoded('run.hiden=false'),
      encoded('run.=x'),
      encoded('=x'),
      encoded('var.score<abc'),
      encoded('var.x*=maybe'),
      encoded('var.x!x'),
      encoded('(run.hidden=false'),
      encoded('(run.hidden=false)x'),
      encoded('{run.hidden=false}'),
      encoded('var.__proto__=1'),
      'sort=run.nope',
      'sort=-score',
      'first=-1',
      'max=abc',
    ]) {
      const response = await page(query);
      expect(response.status, query).toBe(400);
      expect(response.body).toEqual(fault(400, 'BAD_REQUEST'));
    }
  });

  it('sorts by one or more fields, ascending or descending', async () => {
    expect(await keys('sort=-run.created')).toEqual([5, 4, 2, 1, 0]);
    expect(await keys('sort=%2Bvar.score')).toEqual([1, 4, 0, 5, 2]);
    expect(await keys('sort=+var.score')).toEqual([1, 4, 0, 5, 2]);
    expect(await keys('sort=-var.score')).toEqual([2, 5, 0, 4, 1]);
    expect(await keys('sort=meta.level;-var.score')).toEqual([2, 0, 4, 5, 1]);
    expect(await keys('sort=run.trackingKey')).toEqual([4, 0, 2, 1, 5]);
    // reuse-across-sessions: the newest run of a user.
    expect(await keys(`sort=-run.created&max=1&${encoded('run.userKey=u1')}`)).toEqual([1]);
  });

  it('pages with first and max (at most 200), totalResults counting every match', async () => {
    const response = await page('sort=run.created&first=1&max=2');
    expect(response.body).toMatchObject({ firstResult: 1, maxResults: 2, totalResults: 5 });
    expect(response.body.values.map((run: any) => run.runKey)).toEqual([runs[1].runKey, runs[2].runKey]);
    expect((await page('first=4&max=10')).body.values).toHaveLength(1);
    expect((await page('first=9')).body).toMatchObject({ firstResult: 9, totalResults: 5, values: [] });
    expect((await page('max=0')).body).toMatchObject({ maxResults: 0, totalResults: 5, values: [] });
    expect((await page('max=5000')).body.maxResults).toBe(200);
  });

  it('var= answers variables as arrays in the order asked; meta= restricts metaData', async () => {
    const response = await page('var=score;missing;name&meta=level;nope&max=2');
    expect(response.body.values.map((run: any) => run.variables)).toEqual([
      [7, null, 'Run 0'],
      [3, null, 'Run 1'],
    ]);
    expect(response.body.values.map((run: any) => run.metaData)).toEqual([{ level: 0 }, { level: 1 }]);
    const full = await page('max=1');
    expect(full.body.values[0].metaData).toEqual({ level: 0, isInitComplete: true, tags: ['t0'] });
  });
});

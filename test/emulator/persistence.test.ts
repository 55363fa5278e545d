import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { call, createRun, RUNS, useEmulator } from './helpers.js';

let directory: string;
const emu = useEmulator();
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'run-lifecycle-emulator-'));
});
afterEach(async () => {
  await emu.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe('dataFile', () => {
  it('keeps runs, worlds, world runs and the clock across a restart', async () => {
    const dataFile = join(directory, 'nested', 'runs.json');
    const world = { id: 'w1', account: 'acme', project: 'sim', group: 'g1', users: [{ userId: 'u1' }] };
    await emu.start({ dataFile, worlds: [world], variables: { price: 1 } });
    const first = await createRun(emu.current, { scope: { group: 'g1' } });
    await call(emu.current, 'PATCH', `${RUNS}${first.id}/`, { body: { saved: true } });
    const worldRun = (await call(emu.current, 'POST', 'multiplayer/world/w1/run', { body: { model: 'model.py' } })).body;
    const before = emu.current.runs();
    expect(readdirSync(join(directory, 'nested'))).toEqual(['runs.json']);
    await emu.stop();

    await emu.start({ dataFile, worlds: [{ id: 'ignored', account: 'a', project: 'p' }] });
    expect(emu.current.runs()).toEqual(before);
    expect(emu.current.worlds().map((w) => [w.id, w.run])).toEqual([['w1', worldRun]]);
    expect((await call(emu.current, 'POST', 'multiplayer/world/w1/run', { body: { model: 'model.py' } })).status).toBe(200);
    const later = await createRun(emu.current);
    expect(later.id > (before[1]?.id ?? '')).toBe(true);
    expect(later.created > (before[1]?.lastModified ?? '')).toBe(true);
    const sorted = (await call(emu.current, 'GET', `${RUNS};/?sort=created&direction=desc`)).body;
    expect(sorted.map((run: { id: string }) => run.id)).toEqual([later.id, ...before.map((run) => run.id).reverse()]);
  });

  it('writes the file after each change, so it is current without a clean close', async () => {
    const dataFile = join(directory, 'runs.json');
    await emu.start({ dataFile });
    const run = await createRun(emu.current);
    const onDisk = JSON.parse(readFileSync(dataFile, 'utf8'));
    expect(onDisk).toMatchObject({ version: 1, runs: [{ id: run.id }], worlds: [] });
    emu.current.reset();
    expect(JSON.parse(readFileSync(dataFile, 'utf8')).runs).toEqual([]);
  });

  it('refuses to start on a corrupt file and leaves it untouched', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /corrupt/],
      ['[]', /not a JSON object/],
      ['{"version":2,"clock":0,"nextSeq":0,"runs":[],"worlds":[]}', /unknown version/],
      ['{"version":1,"clock":0,"nextSeq":0,"runs":[{"id":"x"}],"worlds":[]}', /runs\[0\]/],
      ['{"version":1,"clock":0,"nextSeq":0,"runs":[{"account":"a","project":"p"}],"worlds":[]}', /runs\[0\] has no string id/],
      ['{"version":1,"clock":0,"nextSeq":0,"runs":[],"worlds":[{"id":"w","account":"a","project":"p","users":"u1"}]}', /users/],
      ['{"version":1,"clock":0,"nextSeq":0,"runs":[],"worlds":{}}', /worlds is not an array/],
      [
        '{"version":1,"clock":0,"nextSeq":0,"runs":[{"id":"x","account":"a","project":"p"},{"id":"x","account":"a","project":"p"}],"worlds":[]}',
        /already exists/,
      ],
    ];
    for (const [content, message] of cases) {
      const dataFile = join(directory, 'bad.json');
      writeFileSync(dataFile, content);
      await expect(startEmulator({ dataFile }), content).rejects.toThrow(message);
      expect(readFileSync(dataFile, 'utf8')).toBe(content);
    }
  });
});

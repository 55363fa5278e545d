/**
 * Draws every state machine of the library from its definition: a Mermaid `stateDiagram-v2`
 * (`visualizations/<machine-id>.mmd`) and an SVG laid out offline with Graphviz
 * (`visualizations/<machine-id>.svg`), plus `visualizations/README.md` listing them.
 *
 *   npm run visualize              write the files (only those that changed) and list them
 *   npm run visualize -- --check   regenerate in memory; exit 1 listing every stale, missing or
 *                                  extra file
 */
import { relative } from 'node:path';
import { checkFiles, formatCheck, generateFiles, libraryMachines, VISUALIZATIONS_DIR, writeFiles } from './visualize/generate.js';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--check');
if (unknown.length > 0) {
  console.error(`visualize: unknown argument(s) ${unknown.join(' ')}\nusage: npm run visualize [-- --check]`);
  process.exit(2);
}

const label = relative(process.cwd(), VISUALIZATIONS_DIR).replace(/\/$/, '') || '.';
const machines = libraryMachines();
const files = await generateFiles(machines);

if (args.includes('--check')) {
  const result = await checkFiles(VISUALIZATIONS_DIR, files);
  if (!result.ok) {
    console.error(formatCheck(result, label));
    process.exit(1);
  }
  console.log(`${label}/ is up to date: ${files.size} files for ${machines.length} machines.`);
} else {
  const result = await writeFiles(VISUALIZATIONS_DIR, files);
  for (const name of result.written) console.log(`wrote     ${label}/${name}`);
  for (const name of result.unchanged) console.log(`unchanged ${label}/${name}`);
  for (const name of result.removed) console.log(`removed   ${label}/${name} (no machine produces it)`);
  for (const name of result.kept) console.warn(`extra     ${label}/${name}: no machine produces it; remove it by hand`);
  console.log(`${machines.length} machines, ${files.size} files (${result.written.length} written).`);
}

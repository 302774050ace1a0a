/**
 * Jinja2 layer benchmark: renders every corpus case (../shared/corpus/jinja) cold (new renderer,
 * so preprocess + compile + render) and warm (cached compiled templates), and prints templates per
 * second. Run: npx tsc -p tsconfig.json && node dist/test/bench/jinja-corpus.js [rounds]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRenderer } from '../../compiler/jinja/renderer.js';
import { parseVarsText } from '../../compiler/jinja/vars-file.js';

const corpus = process.env.STEAD_JINJA_CORPUS ?? fileURLToPath(new URL('../../../../shared/corpus/jinja/', import.meta.url));
const casesDir = join(corpus, 'cases');
if (!existsSync(casesDir)) {
  console.error(`corpus not found at ${casesDir} (set STEAD_JINJA_CORPUS)`);
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 20);
const cases = readdirSync(casesDir)
  .sort()
  .map((name) => ({ dir: join(casesDir, name), vars: parseVarsText(readFileSync(join(casesDir, name, 'vars.yaml'), 'utf8'), false) }));

let t0 = performance.now();
for (let i = 0; i < rounds; i++) for (const c of cases) createRenderer({ searchPaths: [c.dir] }).renderFile('template.j2', c.vars);
const cold = (performance.now() - t0) / (rounds * cases.length);

const warmRenderers = cases.map((c) => ({ r: createRenderer({ searchPaths: [c.dir] }), vars: c.vars }));
for (const w of warmRenderers) w.r.renderFile('template.j2', w.vars);
t0 = performance.now();
for (let i = 0; i < rounds; i++) for (const w of warmRenderers) w.r.renderFile('template.j2', w.vars);
const warm = (performance.now() - t0) / (rounds * cases.length);

console.log(`jinja corpus: ${cases.length} templates x ${rounds} rounds`);
console.log(`cold (preprocess + compile + render): ${cold.toFixed(2)} ms/template, ${(1000 / cold).toFixed(0)} templates/s`);
console.log(`warm (compiled template cached):      ${warm.toFixed(3)} ms/template, ${(1000 / warm).toFixed(0)} templates/s`);

/**
 * The precompiled (Ajv standalone) validators agree with a fresh Ajv compile of the same
 * schemas on a corpus of real and broken documents: valid/invalid, the raw errors, and the
 * messages describeErrors makes of them. A schema changed after generation falls back to Ajv,
 * and a process whose schemas are all precompiled never loads the Ajv compiler.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { compileHost } from '../../compiler/compile.js';
import { loadApplyInput } from '../../compiler/catalog/index.js';
import { loadRepository } from '../../compiler/repo/load-repository.js';
import { generateStandalone, registrySchemas, StandaloneBuildError } from '../../schemas/standalone-build.js';
import { createAjv, describeErrors, schemaFingerprint, type PrecompiledValidator, type ValidateFn } from '../../schemas/validate.js';
import { catalogSchema, fileResourceSchema, manifestSchema, resourceSchemas, runReportSchema } from '../../schemas/index.js';
import { buildOnce, programRoot } from '../helpers/e2e-fleet.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const examplesDir = join(repoRoot, 'manifests/examples');
const demoDir = join(repoRoot, 'manifests/demo');

/** The comparable part of an Ajv error (parentSchema by its x-hint; schema/data are references). */
function errorView(errors: ValidateFn['errors']): unknown[] {
  return (errors ?? []).map((e) => ({
    instancePath: e.instancePath,
    schemaPath: e.schemaPath,
    keyword: e.keyword,
    params: e.params,
    message: e.message,
    hint: (e.parentSchema as Record<string, unknown> | undefined)?.['x-hint'],
    hasParentSchema: e.parentSchema !== undefined,
  }));
}

/** Mutants of a document: each property (to depth 3) deleted or retyped, plus unknown properties. */
function mutants(doc: unknown, depth = 0): unknown[] {
  if (depth > 3 || doc === null || typeof doc !== 'object') return [];
  const out: unknown[] = [];
  if (Array.isArray(doc)) {
    doc.slice(0, 3).forEach((v, i) => {
      for (const m of [42, 'x', null, { zz: 1 }, ...mutants(v, depth + 1)]) out.push(doc.map((w, j) => (j === i ? m : w)));
    });
    out.push([...doc, 'extra']);
    return out;
  }
  const obj = doc as Record<string, unknown>;
  out.push({ ...obj, zzUnknown: true });
  for (const k of Object.keys(obj)) {
    const { [k]: _dropped, ...rest } = obj;
    out.push(rest);
    for (const v of [42, -1, 1.5, 'x', '', 'not a/../path', '0999', true, null, [], {}, ['a'], '../etc', 'http://e x']) out.push({ ...obj, [k]: v });
    for (const m of mutants(obj[k], depth + 1)) out.push({ ...obj, [k]: m });
  }
  return out;
}

/** YAML inputs of the bad-manifest table (the single-quoted `yaml:` literals), parsed where they parse. */
function badManifestInputs(): unknown[] {
  const src = readFileSync(join(repoRoot, 'test/compiler/manifest/bad-manifests.test.ts'), 'utf8');
  const out: unknown[] = [];
  for (const m of src.matchAll(/yaml: '((?:[^'\\]|\\.)*)'/g)) {
    const text = JSON.parse(`"${m[1]!.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string;
    try {
      out.push(parseYaml(text));
    } catch {
      // YAML syntax cases: nothing for a schema to see.
    }
  }
  return out;
}

/** Every YAML document under a folder (repository files: groups, roles, inventory, vars). */
function yamlDocs(dir: string): unknown[] {
  const out: unknown[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlDocs(p));
    else if (/\.ya?ml$/.test(name)) out.push(parseYaml(readFileSync(p, 'utf8')));
  }
  return out;
}

interface Corpus {
  catalogs: unknown[];
  manifests: unknown[];
  other: unknown[];
}

async function buildCorpus(): Promise<Corpus> {
  const catalogs: unknown[] = [];
  const manifests: unknown[] = [];
  for (const f of readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort()) {
    manifests.push(parseYaml(readFileSync(join(examplesDir, f), 'utf8')));
    const input = await loadApplyInput(join(examplesDir, f), { host: 'example-1' });
    if (input.catalog) catalogs.push(input.catalog);
  }
  const secretKey = Buffer.from(readFileSync(join(repoRoot, 'manifests/demo-secret.key'), 'utf8').trim(), 'hex');
  const repo = await loadRepository(demoDir, { secretKey });
  for (const host of repo.hosts.keys()) {
    const res = compileHost(repo, host, {});
    if (res.catalog) catalogs.push(res.catalog);
  }
  manifests.push(...badManifestInputs());
  return { catalogs, manifests, other: yamlDocs(demoDir) };
}

const handMadeResources: unknown[] = [
  { type: 'file', path: '/etc/motd', content: 'hi', mode: '0644' },
  { type: 'file', path: '/etc/motd', content: 'hi', mode: '999' },
  { type: 'file', path: '/etc/motd', content: 'hi', mode: 420 },
  { type: 'file', path: 'relative/path', content: 'hi' },
  { type: 'file', path: '/etc/../passwd', content: 'hi' },
  { type: 'file', path: '/etc/motd', content: 'hi', source: 'files/motd' },
  { type: 'file', path: '/etc/motd', ensure: 'sideways' },
  { type: 'file', content: 'no path' },
  { type: 'file', path: '/etc/motd', owner: 12, group: ['wheel'] },
  { type: 'directory', path: '/srv', mode: '0755', recurse: 'yes' },
  { type: 'link', path: '/srv/l', target: '' },
  { type: 'package', name: 'nginx', ensure: 'latest', version: 3 },
  { type: 'package', name: 'bad name with spaces' },
  { type: 'service', name: 'nginx', ensure: 'running', enable: 'true' },
  { type: 'user', name: 'Root!', uid: -5, shell: 'bash' },
  { type: 'group', name: 'g', gid: 'ten' },
  { type: 'exec', command: '', timeout: 0, creates: 'relative' },
  { type: 'archive', path: '/opt/a', source: 'http://x', checksum: 'md5:abc' },
  { type: 'nonsense', path: '/x' },
  { type: 'file', path: '/etc/motd', requires: ['not-a-ref', 7], zz: 1 },
];

t.test('generator', async (t) => {
  const dir = t.testdir();
  const outFile = join(dir, 'standalone-validators.mjs');
  const schemas = registrySchemas();
  const ids = schemas.map((s) => s.$id);
  t.ok(ids.includes(catalogSchema.$id) && ids.includes(runReportSchema.$id) && ids.includes(manifestSchema.$id), 'catalog, report and manifest schemas are in');
  for (const s of Object.values(resourceSchemas)) t.ok(ids.includes(s.$id), `${s.$id} is in`);
  t.equal(new Set(ids).size, ids.length, 'one schema per $id');

  const result = await generateStandalone(outFile, { resolveFrom: join(repoRoot, 'package.json') });
  t.same(Object.keys(result.fingerprints).sort(), [...ids].sort(), 'a fingerprint per $id');
  for (const s of schemas) t.equal(result.fingerprints[s.$id], schemaFingerprint(s));
  const text = readFileSync(outFile, 'utf8');
  t.notMatch(text, /require\("ajv"\)|ajv\/dist\/(core|ajv|compile)/, 'the generated code needs only runtime helpers');

  const mod = (await import(pathToFileURL(outFile).href)) as { validators: Record<string, PrecompiledValidator> };
  t.same(Object.keys(mod.validators).sort(), [...ids].sort(), 'the module exports every $id');

  const fresh = createAjv();
  for (const s of schemas) fresh.addSchema(s as object);
  const corpus = await buildCorpus();
  t.ok(corpus.catalogs.length >= 10, `catalogs from examples and demo (${corpus.catalogs.length})`);
  t.ok(corpus.manifests.length >= 20, `manifests (${corpus.manifests.length})`);

  const resources = corpus.catalogs.flatMap((c) => ((c as { resources?: unknown[] }).resources ?? []).slice(0, 40));
  const checks: Array<[string, unknown]> = [];
  for (const c of corpus.catalogs) {
    checks.push([catalogSchema.$id, c]);
    const small = { ...(c as object), resources: ((c as { resources?: unknown[] }).resources ?? []).slice(0, 2) };
    for (const m of mutants(small)) checks.push([catalogSchema.$id, m]);
  }
  for (const r of [...resources, ...handMadeResources]) {
    const type = (r as { type?: string }).type ?? '';
    const schema = (resourceSchemas as Record<string, { $id: string } | undefined>)[type] ?? fileResourceSchema;
    checks.push([schema.$id, r]);
    for (const m of mutants(r)) checks.push([schema.$id, m]);
  }
  for (const m of corpus.manifests) {
    checks.push([manifestSchema.$id, m]);
    for (const x of mutants(m).slice(0, 200)) checks.push([manifestSchema.$id, x]);
  }
  // Everything against every schema too: mostly invalid, which exercises each schema's error paths.
  const everything = [...corpus.catalogs, ...corpus.manifests, ...corpus.other, ...resources.slice(0, 60), ...handMadeResources, null, 0, 'x', [], {}, { zz: 1 }];
  for (const id of ids) for (const d of everything) checks.push([id, d]);

  let valid = 0;
  let invalid = 0;
  let hinted = 0;
  const disagreements: string[] = [];
  for (const [id, data] of checks) {
    const pre = mod.validators[id]!.validate;
    const ajvFn = fresh.getSchema(id)!;
    const a = pre(data);
    const b = ajvFn(data);
    if (a !== b) {
      disagreements.push(`${id}: precompiled ${a}, ajv ${b} for ${JSON.stringify(data).slice(0, 200)}`);
      continue;
    }
    if (a) {
      valid++;
      continue;
    }
    invalid++;
    const pv = errorView(pre.errors);
    const av = errorView(ajvFn.errors);
    if (JSON.stringify(pv) !== JSON.stringify(av)) disagreements.push(`${id}: errors differ for ${JSON.stringify(data).slice(0, 200)}`);
    const pd = describeErrors(pre.errors);
    if (JSON.stringify(pd) !== JSON.stringify(describeErrors(ajvFn.errors))) disagreements.push(`${id}: messages differ for ${JSON.stringify(data).slice(0, 200)}`);
    if ((pre.errors ?? []).some((e) => typeof (e.parentSchema as Record<string, unknown> | undefined)?.['x-hint'] === 'string')) hinted++;
  }
  t.same(disagreements.slice(0, 20), [], `precompiled and Ajv agree on ${checks.length} checks`);
  t.ok(valid >= corpus.catalogs.length + resources.length, `valid documents seen (${valid})`);
  t.ok(invalid > 1000, `invalid documents seen (${invalid})`);
  t.ok(hinted > 0, `errors carrying an x-hint seen (${hinted})`);
  // The corpus really is valid where it should be (else "agree" could mean "both reject").
  for (const c of corpus.catalogs) t.equal(mod.validators[catalogSchema.$id]!.validate(c), true, 'compiled catalog is valid');
});

t.test('the generator rejects two different schemas with one $id', async (t) => {
  const dir = t.testdir();
  const a = { $id: 'urn:test:dup', type: 'string' } as const;
  const b = { $id: 'urn:test:dup', type: 'number' } as const;
  await t.rejects(generateStandalone(join(dir, 'x.mjs'), { schemas: [a, b] }), StandaloneBuildError);
  const strictViolation: { $id: string } = { $id: 'urn:test:strict' };
  Object.assign(strictViolation, { type: 'object', nonsenseKeyword: 1 });
  await t.rejects(generateStandalone(join(dir, 'y.mjs'), { schemas: [strictViolation] }), { code: 'STANDALONE_COMPILE_FAILED' });
});

/** Runs an ESM script with node in the build snapshot and returns its JSON output. */
async function runInBuild(script: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: programRoot, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const ajvLoadedJs = `
import { createRequire } from 'node:module';
const ajvCompilerLoaded = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules\\/ajv\\/(dist|lib)\\/(core|ajv|compile\\/index)\\.js$/.test(k));
`;

t.test('built: the agent side loads no Ajv compiler; a changed schema falls back to Ajv', async (t) => {
  await buildOnce();
  const dist = join(programRoot, 'dist');
  t.ok(statSync(join(dist, 'schemas/standalone-validators.js')).isFile(), 'the build wrote the precompiled module');

  const agentSide = await runInBuild(`${ajvLoadedJs}
const v = await import(${JSON.stringify(pathToFileURL(join(dist, 'schemas/validate.js')).href)});
const s = await import(${JSON.stringify(pathToFileURL(join(dist, 'schemas/index.js')).href)});
await import(${JSON.stringify(pathToFileURL(join(dist, 'agent/engine/validate-catalog.js')).href)});
await import(${JSON.stringify(pathToFileURL(join(dist, 'agent/client/agent-client.js')).href)});
const afterImport = ajvCompilerLoaded();
const ok = [];
for (const k of Object.keys(s.resourceSchemas)) ok.push(v.compileGuard(s.resourceSchemas[k]).check({ type: k }).length > 0);
ok.push(v.compileGuard(s.catalogSchema).is({}) === false);
const bad = v.compileGuard(s.fileResourceSchema).check({ type: 'file', path: '/x', content: 'a', zz: 1 });
ok.push(v.compileGuard(s.runReportSchema).is(null) === false);
const afterGuards = ajvCompilerLoaded();
v.getAjv();
console.log(JSON.stringify({ precompiled: v.precompiledSchemaIds(), afterImport, afterGuards, afterGetAjv: ajvCompilerLoaded(), ok, bad }));
`);
  t.ok((agentSide.precompiled as string[]).includes(catalogSchema.$id), 'precompiled validators loaded');
  t.same(agentSide.afterImport, [], 'importing validate.js, the registry and the agent loads no Ajv compiler');
  t.same(agentSide.afterGuards, [], 'compiling the agent-side guards loads no Ajv compiler');
  t.ok((agentSide.afterGetAjv as string[]).length > 0, 'the check can see Ajv when it is loaded (getAjv)');
  t.ok((agentSide.ok as boolean[]).every(Boolean), 'the precompiled guards reject invalid data');
  t.same(agentSide.bad, [{ path: '/zz', message: 'unknown property "zz"' }]);

  const changed = await runInBuild(`${ajvLoadedJs}
const v = await import(${JSON.stringify(pathToFileURL(join(dist, 'schemas/validate.js')).href)});
const s = await import(${JSON.stringify(pathToFileURL(join(dist, 'schemas/index.js')).href)});
const loose = { ...s.fileResourceSchema, additionalProperties: true };
const g = v.compileGuard(loose);
const data = { type: 'file', path: '/etc/motd', content: 'x', zz: 1 };
console.log(JSON.stringify({ ajv: ajvCompilerLoaded().length > 0, looseValid: g.is(data), stillChecks: g.check({ type: 'file', path: 'relative', content: 'x' }) }));
`);
  t.equal(changed.ajv, true, 'a schema changed since generation (same $id) is compiled by Ajv');
  t.equal(changed.looseValid, true, 'and validated by its new content, not the precompiled one');
  t.ok((changed.stillChecks as unknown[]).length > 0, 'its unchanged rules still apply');
});

/**
 * Parsing and checking a manifest file: YAML with positions, the top-level shape
 * (manifestSchema), every resource against its own type's schema, the semantic checks, and
 * the dependency graph (duplicate titles, unknown references, cycles). Every mistake is
 * reported in one pass, each with file, line, column, JSON pointer and an actionable message.
 */
import {
  buildGraph,
  compileGuard,
  isResourceType,
  manifestSchema,
  resourceId,
  resourceSchemas,
  resourceTypes,
  parseResourceRef,
  type GraphProblem,
  type Guard,
  type Manifest,
  type Resource,
  type ResourceType,
} from '../../schemas/index.js';
import { didYouMean } from './did-you-mean.js';
import { hasErrors, sortProblems, type ManifestProblem, type ManifestProblemCode, type SourceLocation } from './manifest-problem.js';
import { checkResource } from './semantic-checks.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

/** A checked manifest: its variables and resources, each resource with where it was written. */
export interface ParsedManifest {
  /** The files it came from (one for a file, several for a directory). */
  readonly files: readonly string[];
  readonly vars: Record<string, unknown>;
  readonly resources: Resource[];
  /** origins[i]: where resources[i] starts (its "- type:" line). */
  readonly origins: SourceLocation[];
  /** Where a property of resources[index] is written, e.g. locate(2, '/template'). */
  locate(index: number, relative: string, opts?: { key?: boolean }): SourceLocation;
}

export interface ParseResult {
  /** undefined when any problem is an error; warnings alone keep the manifest. */
  readonly manifest: ParsedManifest | undefined;
  /** Errors and warnings, sorted by file, line and column. */
  readonly problems: ManifestProblem[];
}

/** One resource as found in a file, before cross-resource checks. */
export interface SourcedResource {
  readonly resource: Resource;
  /** Whether it passed its schema and semantic checks. */
  readonly valid: boolean;
  readonly origin: SourceLocation;
  /** Locates a pointer relative to this resource ("/require/0"). */
  locate(relative: string, opts?: { key?: boolean }): SourceLocation;
}

/** One file after the per-file checks. */
export interface SourcedManifest {
  readonly file: string;
  readonly vars: Record<string, unknown>;
  readonly varsOrigin: SourceLocation;
  readonly resources: SourcedResource[];
  readonly problems: ManifestProblem[];
  readonly locate: YamlSource['locate'];
}

const manifestGuard: Guard<Manifest> = compileGuard(manifestSchema);
const resourceGuards = new Map<ResourceType, Guard<Resource>>();
function guardFor(type: ResourceType): Guard<Resource> {
  let g = resourceGuards.get(type);
  if (!g) {
    g = compileGuard<Resource>(resourceSchemas[type]);
    resourceGuards.set(type, g);
  }
  return g;
}

/** Parses and checks one manifest file's text. Never throws for a bad manifest. */
export function parseManifest(text: string, fileName: string): ParseResult {
  const sourced = parseManifestSource(text, fileName);
  return finishManifests([sourced]);
}

/**
 * Per-file part of the checks: YAML, shape, each resource's schema and semantic checks.
 * Cross-resource checks (graph, refreshonly) need the whole set: see finishManifests.
 */
export function parseManifestSource(text: string, file: string): SourcedManifest {
  const yaml = parseYamlSource(text, file);
  const problems: ManifestProblem[] = [...yaml.problems];
  const resources: SourcedResource[] = [];
  const base = { file, vars: {}, varsOrigin: yaml.locate(''), resources, problems, locate: yaml.locate };
  if (hasErrors(problems)) return base;

  const data = yaml.data ?? {};
  const add = (path: string, code: ManifestProblemCode, message: string, opts?: { key?: boolean; severity?: 'warning' }): void => {
    problems.push({ ...yaml.locate(path, opts), code, message, severity: opts?.severity ?? 'error' });
  };

  if (typeof data !== 'object' || Array.isArray(data) || data === null) {
    add('', 'NOT_A_MANIFEST', `a manifest is a map with "resources:" (a list) and optionally "vars:" (a map); this file holds ${Array.isArray(data) ? 'a list (indent it under "resources:")' : `a ${typeof data}`}`);
    return base;
  }
  for (const p of manifestGuard.check(data)) {
    if (/^\/resources\/\d+/.test(p.path)) continue; // each resource is checked against its own type below
    const unknown = p.message.startsWith('unknown property');
    add(p.path, unknown ? 'UNKNOWN_PROPERTY' : 'INVALID_VALUE', unknown ? `${p.message}: a manifest has only "resources" and "vars"` : `${p.message}`, { key: unknown });
  }
  const m = data as { vars?: unknown; resources?: unknown };
  const vars = m.vars !== undefined && typeof m.vars === 'object' && m.vars !== null && !Array.isArray(m.vars) ? (m.vars as Record<string, unknown>) : {};
  const list = Array.isArray(m.resources) ? (m.resources as unknown[]) : [];

  list.forEach((raw, i) => {
    const at = `/resources/${i}`;
    const locate = (relative: string, opts?: { key?: boolean }): SourceLocation => yaml.locate(`${at}${relative}`, opts);
    const problemCount = problems.length;
    const sourceValue = (relative: string): string | undefined => yaml.sourceText(`${at}${relative}`);
    const checked = checkOne(raw, (rel, code, message, opts) => add(`${at}${rel}`, code, message, opts), sourceValue);
    // origin is located on demand: positions are computed only when something is reported.
    if (checked) resources.push({ resource: checked, valid: problems.length === problemCount, get origin() { return locate(''); }, locate });
  });
  return { file, vars, varsOrigin: yaml.locate('/vars'), resources, problems, locate: yaml.locate };
}

type Report = (relative: string, code: ManifestProblemCode, message: string, opts?: { key?: boolean; severity?: 'warning' }) => void;

/** Checks one resource; returns it (typed) when its title can be known, so graph checks can still run. */
function checkOne(raw: unknown, report: Report, sourceText: (relative: string) => string | undefined): Resource | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    report('', 'INVALID_VALUE', `each resource is a map with a "type" and its properties (e.g. "- type: file"); got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`);
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (r['type'] === undefined) {
    report('', 'MISSING_PROPERTY', `missing required property "type": one of ${resourceTypes.join(', ')}`);
    return undefined;
  }
  if (!isResourceType(r['type'])) {
    const t = r['type'];
    const hint = typeof t === 'string' ? didYouMean(t, resourceTypes) : undefined;
    report('/type', 'UNKNOWN_TYPE', `unknown resource type ${JSON.stringify(t)}${hint ? ` (did you mean "${hint}"?)` : ''}; known types: ${resourceTypes.join(', ')}`);
    return undefined;
  }
  const type = r['type'];
  const schema = resourceSchemas[type];
  const propNames = Object.keys(schema.properties);
  const schemaProblems = guardFor(type).check(raw);
  for (const p of schemaProblems) {
    if (p.message.startsWith('unknown property')) {
      const prop = p.path.split('/').pop() ?? '';
      const hint = p.path.split('/').length === 2 ? didYouMean(prop, propNames) : undefined;
      report(p.path, 'UNKNOWN_PROPERTY', `${p.message}${hint ? ` (did you mean "${hint}"?)` : ''}; ${type} accepts: ${propNames.filter((n) => n !== 'type').join(', ')}`, { key: true });
    } else if (p.message.startsWith('missing required property')) {
      report(p.path, 'MISSING_PROPERTY', `${p.message} for a ${type}`);
    } else if (p.path === '/mode' && typeof r['mode'] === 'number') {
      const written = sourceText('/mode') ?? String(r['mode']);
      const digits = /^0o?[0-7]+$/.test(written) ? written.replace(/^0o/, '0') : String(r['mode']).padStart(4, '0');
      report('/mode', 'BAD_MODE', `mode ${written} is read by YAML as the number ${String(r['mode'])}, not an octal mode; quote it: mode: "${digits}"`);
    } else {
      const v = valueAt(r, p.path);
      const yesNo = p.message === 'must be boolean' && typeof v === 'string' && /^(yes|no|on|off|true|false|y|n)$/i.test(v) ? ': write true or false, without quotes' : '';
      report(p.path, 'INVALID_VALUE', `${propertyLabel(p.path)}${p.message}${gotValue(v)}${yesNo}`);
    }
  }
  const resource = raw as Resource;
  // Semantic checks also run on a resource with schema errors, minus the offending properties,
  // so that one pass reports everything; issues about removed properties are left out.
  const broken = new Set(schemaProblems.map((p) => p.path.split('/')[1] ?? ''));
  const sane = Object.fromEntries(Object.entries(r).filter(([k]) => !broken.has(k))) as Resource;
  for (const issue of checkResource(sane)) {
    if (broken.size > 0 && (issue.path === '' || broken.has(issue.path.split('/')[1] ?? ''))) continue;
    report(issue.path, issue.code, issue.message, issue.severity === 'warning' ? { severity: 'warning' } : undefined);
  }
  return hasTitle(resource) ? resource : undefined;
}

function hasTitle(r: Resource): boolean {
  const x = r as unknown as Record<string, unknown>;
  switch (r.type) {
    case 'file':
    case 'directory':
    case 'link':
    case 'archive':
      return typeof x['path'] === 'string';
    case 'exec':
      return typeof x['name'] === 'string' || typeof x['command'] === 'string';
    default:
      return typeof x['name'] === 'string';
  }
}

function propertyLabel(path: string): string {
  const segs = path.split('/').filter(Boolean);
  return segs.length > 0 ? `${segs.join('.')} ` : '';
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur = obj;
  for (const seg of pointer.split('/').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function gotValue(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return ' (got an empty value)';
  if (typeof v === 'object') return Array.isArray(v) ? ' (got a list)' : ' (got a map)';
  const s = JSON.stringify(v);
  return ` (got ${s.length > 60 ? `${s.slice(0, 57)}...` : s}${typeof v === 'string' ? '' : `, a ${typeof v}`})`;
}

const edgeProps = ['require', 'before', 'notify', 'subscribe'] as const;

/**
 * Joins per-file results into one manifest and runs the cross-resource checks over all of
 * them: duplicate titles, references, cycles (schemas/graph.ts), vars defined twice, and
 * refreshonly execs nobody notifies (a warning).
 */
export function finishManifests(files: readonly SourcedManifest[]): ParseResult {
  const problems: ManifestProblem[] = files.flatMap((f) => f.problems);
  const all = files.flatMap((f) => f.resources);

  // Only resources whose references are well-typed take part in the graph: a resource with a
  // broken require list has already been reported, and its refs would only add noise.
  const graphable = all.filter((s) => edgeProps.every((p) => {
    const v = (s.resource as Record<string, unknown>)[p];
    return v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  }));
  const graphProblems = graphCheck(graphable.map((s) => s.resource));
  const reported = new Set(problems.filter((p) => p.severity === 'error').map((p) => `${p.file}\u0000${p.path}`));
  for (const gp of graphProblems) {
    const s = graphable[gp.index]!;
    let location: SourceLocation;
    if (gp.property === 'title') {
      location = s.locate(s.resource.type === 'file' || s.resource.type === 'directory' || s.resource.type === 'link' || s.resource.type === 'archive' ? '/path' : s.resource.type === 'exec' && s.resource.name === undefined ? '/command' : '/name');
    } else {
      location = locateRef(s, gp.property, gp.ref);
    }
    if (reported.has(`${location.file}\u0000${location.path}`)) continue; // already reported by the schema check
    let message = gp.message;
    if (gp.code === 'UNKNOWN_REF') {
      const hint = didYouMean(gp.ref, all.map((x) => resourceId(x.resource)));
      message = `${gp.property}: no resource ${gp.ref} in this manifest${hint ? ` (did you mean "${hint}"?)` : ''}; a reference is "type:title", the title being the path (file, directory, link, archive), the name, or an exec's name or command`;
    }
    problems.push({ ...location, code: gp.code, message, severity: 'error' });
  }

  // refreshonly execs that nothing can trigger never run: probably a forgotten notify.
  const ids = new Map(all.map((s) => [resourceId(s.resource), s] as const));
  const notified = new Set<string>();
  for (const s of all) {
    const r = s.resource as Record<string, unknown>;
    for (const ref of asStrings(r['notify'])) notified.add(ref);
    if (asStrings(r['subscribe']).some((ref) => ids.has(ref))) notified.add(resourceId(s.resource));
  }
  for (const s of all) {
    if (s.resource.type === 'exec' && s.resource.refreshonly === true && !notified.has(resourceId(s.resource))) {
      problems.push({
        ...s.locate('/refreshonly', { key: true }),
        code: 'UNUSED_REFRESHONLY',
        message: `refreshonly: this exec runs only when notified, and no resource notifies ${resourceId(s.resource)} (add notify: [${resourceId(s.resource)}] to a resource, or subscribe here)`,
        severity: 'warning',
      });
    }
  }

  // vars from several files merge at the top level; the same key twice is ambiguous.
  const vars: Record<string, unknown> = {};
  const varFile = new Map<string, string>();
  for (const f of files) {
    for (const [k, v] of Object.entries(f.vars)) {
      const first = varFile.get(k);
      if (first !== undefined) {
        problems.push({ ...f.locate(`/vars/${k}`, { key: true }), code: 'DUPLICATE_VAR', message: `variable "${k}" is also defined in ${first}; define each variable in one file`, severity: 'error' });
        continue;
      }
      varFile.set(k, f.file);
      Object.defineProperty(vars, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }

  const sorted = sortProblems(problems);
  if (hasErrors(sorted) || all.some((s) => !s.valid)) return { manifest: undefined, problems: sorted };
  return {
    manifest: {
      files: files.map((f) => f.file),
      vars,
      resources: all.map((s) => s.resource),
      get origins() {
        return all.map((s) => s.origin);
      },
      locate: (index, relative, opts) => all[index]?.locate(relative, opts) ?? { file: files[0]?.file ?? '', line: 0, column: 0, path: relative },
    },
    problems: sorted,
  };
}

/**
 * buildGraph stops before cycle detection when a reference is bad. To report every mistake in
 * one pass, a second pass drops the bad references and duplicate resources and looks for cycles.
 */
function graphCheck(resources: readonly Resource[]): GraphProblem[] {
  const first = buildGraph(resources).problems;
  if (first.length === 0 || first.every((p) => p.code === 'CYCLE')) return first;
  const bad = new Set(first.filter((p) => p.code !== 'CYCLE' && p.code !== 'DUPLICATE_TITLE').map((p) => `${p.index}\u0000${p.property}\u0000${p.ref}`));
  const dropped = new Set(first.filter((p) => p.code === 'DUPLICATE_TITLE').map((p) => p.index));
  const kept: number[] = [];
  const cleaned: Resource[] = [];
  resources.forEach((r, i) => {
    if (dropped.has(i)) return;
    const copy: Record<string, unknown> = { ...r };
    for (const p of edgeProps) {
      const refs = asStrings(copy[p]);
      if (refs.length > 0) copy[p] = refs.filter((ref) => !bad.has(`${i}\u0000${p}\u0000${ref}`) && !(parseResourceRef(ref) && resourceId(r) === ref));
    }
    kept.push(i);
    cleaned.push(copy as Resource);
  });
  const second = buildGraph(cleaned).problems.filter((p) => p.code === 'CYCLE');
  return [...first, ...second.map((p) => ({ ...p, index: kept[p.index]! }))];
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Where `ref` is written in one of the resource's edge properties (the resource itself if not found). */
function locateRef(s: SourcedResource, property: string, ref: string): SourceLocation {
  const r = s.resource as Record<string, unknown>;
  for (const p of [property, ...edgeProps.filter((e) => e !== property)]) {
    const i = asStrings(r[p]).indexOf(ref);
    if (i >= 0) return s.locate(`/${p}/${i}`);
  }
  // A cycle edge may be declared on the other resource (before/notify): point at this one's first edge.
  for (const p of edgeProps) if (asStrings(r[p]).length > 0) return s.locate(`/${p}`, { key: true });
  return s.origin;
}

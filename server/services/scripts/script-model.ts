/**
 * Pure rules of the script library: ids from names, bounds on sources and parameters, and the
 * comparison that decides whether a save is a new version. No I/O.
 */
import { createHash } from 'node:crypto';
import { MAX_SCRIPT_PARAMS, MAX_SCRIPT_SOURCE_BYTES, MAX_SCRIPT_TAGS } from '../../../schemas/api/scripts.js';
import { ApiError } from '../../domain/errors.js';

export type ScriptLang = 'shell' | 'python';
export type ScriptKind = 'base' | 'user';

/** A declared parameter (schemas/api/scripts.ts scriptParam). */
export interface ScriptParamDecl {
  name: string;
  description?: string;
  required?: boolean;
  default?: string;
}

export const scriptIdPattern = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const paramNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const tagPattern = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/**
 * The id of a script named `name`: lowercase ASCII letters and digits, runs of anything else as
 * one "-", no leading or trailing "-", at most 64 characters. BAD_REQUEST when nothing is left.
 */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  if (!scriptIdPattern.test(slug)) throw new ApiError('BAD_REQUEST', `the script name ${JSON.stringify(name.slice(0, 100))} has no letter or digit to make an id from`);
  return slug;
}

/** BAD_REQUEST unless `id` is a script id. */
export function assertScriptId(id: string): void {
  if (!scriptIdPattern.test(id)) throw new ApiError('BAD_REQUEST', 'a script id is 1-64 lowercase letters, digits and "-" (the slug of its name)');
}

/** Refuses a source that is empty, has NUL or exceeds 1 MiB of UTF-8. */
export function checkSource(source: string): void {
  if (source.length === 0) throw new ApiError('BAD_REQUEST', 'the script source is empty');
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_SCRIPT_SOURCE_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', `the script source is ${bytes} bytes; the limit is ${MAX_SCRIPT_SOURCE_BYTES}`);
  if (source.includes('\u0000')) throw new ApiError('BAD_REQUEST', 'the script source contains a NUL character (scripts are text)');
}

/** Normalised parameter declarations: unique valid names, bounded; absent fields left out. */
export function checkParams(params: readonly ScriptParamDecl[]): ScriptParamDecl[] {
  if (params.length > MAX_SCRIPT_PARAMS) throw new ApiError('BAD_REQUEST', `a script declares at most ${MAX_SCRIPT_PARAMS} parameters`);
  const seen = new Set<string>();
  return params.map((p) => {
    if (!paramNamePattern.test(p.name) || p.name.length > 64) throw new ApiError('BAD_REQUEST', `parameter name ${JSON.stringify(p.name.slice(0, 64))} must match ^[A-Za-z_][A-Za-z0-9_]*$ (at most 64)`);
    if (p.name.startsWith('STEAD_')) throw new ApiError('BAD_REQUEST', `parameter ${p.name}: names starting with STEAD_ are set by the agent`);
    if (seen.has(p.name)) throw new ApiError('BAD_REQUEST', `parameter ${p.name} is declared twice`);
    seen.add(p.name);
    return { name: p.name, ...(p.description ? { description: p.description } : {}), ...(p.required ? { required: true } : {}), ...(p.default !== undefined ? { default: p.default } : {}) };
  });
}

/** Unique, sorted tags; BAD_REQUEST for a malformed one or too many. */
export function checkTags(tags: readonly string[]): string[] {
  const out = [...new Set(tags)].sort();
  if (out.length > MAX_SCRIPT_TAGS) throw new ApiError('BAD_REQUEST', `a script has at most ${MAX_SCRIPT_TAGS} tags`);
  for (const t of out) if (!tagPattern.test(t)) throw new ApiError('BAD_REQUEST', `tag ${JSON.stringify(t.slice(0, 40))} must match ${tagPattern.source}`);
  return out;
}

/** True when two parameter lists declare the same thing (order matters: it is the console's order). */
export function sameParams(a: readonly ScriptParamDecl[], b: readonly ScriptParamDecl[]): boolean {
  return JSON.stringify(checkParams(a)) === JSON.stringify(checkParams(b));
}

export function sha256Of(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('hex');
}

/**
 * The environment a launch passes for `params` given `values`: declared defaults filled in;
 * BAD_REQUEST for an undeclared name or a required parameter without value or default.
 */
export function paramValues(params: readonly ScriptParamDecl[], values: Readonly<Record<string, string>>): Record<string, string> {
  const declared = new Map(params.map((p) => [p.name, p]));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (!declared.has(k)) throw new ApiError('BAD_REQUEST', `the script declares no parameter ${JSON.stringify(k.slice(0, 64))}`);
    out[k] = v;
  }
  for (const p of params) {
    if (out[p.name] !== undefined) continue;
    if (p.default !== undefined) out[p.name] = p.default;
    else if (p.required) throw new ApiError('BAD_REQUEST', `parameter ${p.name} is required`);
  }
  return out;
}

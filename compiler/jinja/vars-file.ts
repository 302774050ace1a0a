/**
 * Template variables from YAML or JSON text, read the way Ansible's Python side reads them:
 * YAML 1.1 with PyYAML's scalars (py-yaml-scalars.ts: `yes`/`no`/`on`/`off` are booleans but
 * `y`/`n` are strings, `0644` is octal 420, `1e3` is a string, `<<` merges) and floats that
 * stay floats (`1.0` prints as `1.0`, not `1`). Keys named `__proto__` are dropped.
 */
import YAML from 'yaml';
import { PyFloat, isMapping } from './py-values.js';
import { pyYamlScalarTags } from './py-yaml-scalars.js';

export class VarsFileError extends Error {
  readonly code = 'VARS_FILE';
}

type TagList = YAML.Tags;

function floatsStayFloats(tags: TagList): TagList {
  return tags.map((t) => {
    if (typeof t === 'string' || !('tag' in t) || t.tag !== 'tag:yaml.org,2002:float' || !('resolve' in t) || typeof t.resolve !== 'function') return t;
    const resolve = t.resolve as (value: string, onError: (msg: string) => void, options: unknown) => unknown;
    return {
      ...t,
      resolve: (value: string, onError: (msg: string) => void, options: unknown) => {
        const v = resolve(value, onError, options);
        if (typeof v === 'number') return new PyFloat(v);
        if (YAML.isScalar(v) && typeof v.value === 'number') v.value = new PyFloat(v.value);
        return v;
      },
    } as (typeof tags)[number];
  });
}

function stripProto(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripProto);
  if (isMapping(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== '__proto__') out[k] = stripProto(x);
    return out;
  }
  return v;
}

/** Parse variables; `json` selects JSON, otherwise YAML 1.1. The top level must be a mapping (or empty). */
export function parseVarsText(text: string, json: boolean): Record<string, unknown> {
  let data: unknown;
  if (json) {
    try {
      data = JSON.parse(text) as unknown;
    } catch (e) {
      throw new VarsFileError(`invalid JSON: ${(e as Error).message}`);
    }
  } else {
    const doc = YAML.parseDocument(text, { version: '1.1', merge: true, customTags: (tags) => floatsStayFloats(pyYamlScalarTags(tags)), uniqueKeys: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0] as YAML.YAMLError;
      throw new VarsFileError(`invalid YAML at line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
    }
    data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  }
  if (data === null || data === undefined) return {};
  if (!isMapping(data)) throw new VarsFileError('variables must be a mapping at the top level');
  return stripProto(data) as Record<string, unknown>;
}

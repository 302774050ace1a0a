/**
 * The single Ajv instance. Every payload that crosses a process boundary (manifest, catalog,
 * report, API body) is checked here, against a schema from this folder, and nowhere else.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
addFormatsModule.default(ajv);

/** One located schema violation: `path` is a JSON pointer into the checked value. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

/** Thrown by Guard.assert; carries every problem found, not only the first. */
export class SchemaError extends Error {
  readonly code = 'SCHEMA_INVALID';
  constructor(
    readonly schemaId: string,
    readonly problems: readonly SchemaProblem[],
  ) {
    super(`${schemaId}: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
    this.name = 'SchemaError';
  }
}

/** A compiled schema: a type guard plus an assertion that throws SchemaError. */
export interface Guard<T> {
  readonly schemaId: string;
  is(data: unknown): data is T;
  /** Problems found in `data`, [] when it is valid. */
  check(data: unknown): SchemaProblem[];
  assert(data: unknown): asserts data is T;
}

/** Turns ajv's errors into messages a person can act on. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): SchemaProblem[] {
  if (!errors) return [];
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let path = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties': {
        const prop = String((e.params as { additionalProperty: string }).additionalProperty);
        path = `${path}/${prop.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        message = `unknown property "${prop}"`;
        break;
      }
      case 'required':
        message = `missing required property "${String((e.params as { missingProperty: string }).missingProperty)}"`;
        break;
      case 'enum':
        message = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'const':
        message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      case 'pattern':
        message = `must match ${String((e.params as { pattern: string }).pattern)}`;
        break;
      default:
        message = e.message ?? `fails ${e.keyword}`;
    }
    const hint = e.parentSchema && typeof e.parentSchema['x-hint'] === 'string' ? String(e.parentSchema['x-hint']) : undefined;
    if (hint && (e.keyword === 'pattern' || e.keyword === 'type' || e.keyword === 'anyOf' || e.keyword === 'oneOf')) message = hint;
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}

ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
ajv.addKeyword({ keyword: 'x-sensitive', schemaType: 'boolean' });

const compiled = new Map<string, ValidateFunction>();

/**
 * compileGuard compiles a schema once (by `$id`) and returns its guard. Declare the result
 * with an explicit type (`const isCatalog: Guard<Catalog> = compileGuard(catalogSchema)`):
 * TypeScript needs that for assertion calls.
 */
export function compileGuard<T>(schema: { readonly $id: string } & object): Guard<T> {
  let fn = compiled.get(schema.$id);
  if (!fn) {
    fn = ajv.compile(schema as object);
    compiled.set(schema.$id, fn);
  }
  const validate = fn;
  return {
    schemaId: schema.$id,
    is: (data: unknown): data is T => validate(data) === true,
    check: (data: unknown) => (validate(data) ? [] : describeErrors(validate.errors)),
    assert(data: unknown): asserts data is T {
      if (!validate(data)) throw new SchemaError(schema.$id, describeErrors(validate.errors));
    },
  };
}

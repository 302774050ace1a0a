/**
 * Schema validation. Every payload that crosses a process boundary (manifest, catalog,
 * report, API body) is checked here, against a schema from this folder, and nowhere else.
 *
 * Two ways to a validation function, with identical results:
 *  - precompiled: `npm run build` runs schemas/standalone-build.ts, which writes Ajv's
 *    standalone code for every registered schema to dist/schemas/standalone-validators.js,
 *    each with the sha256 of its schema's JSON. compileGuard uses such a function when the
 *    schema passed in has the same `$id` and the same fingerprint, so a process that only
 *    needs registered schemas (the agent, `stead apply`) never loads the Ajv compiler;
 *  - Ajv: anything else (an unregistered schema, a schema changed since the build, running
 *    from TypeScript sources where no precompiled module exists) is compiled by one Ajv
 *    instance, created lazily on first need by createAjv.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, Options as AjvOptions } from 'ajv';

/** A validation function, precompiled or from Ajv: true or false, and `errors` when false. */
export interface ValidateFn {
  (data: unknown): boolean;
  errors?: readonly ErrorObject[] | null | undefined;
}

/** One entry of the precompiled module: the function and the fingerprint of its schema. */
export interface PrecompiledValidator {
  readonly validate: ValidateFn;
  readonly fingerprint: string;
}

/** The file name the generator writes next to this module (dist/schemas/). */
export const STANDALONE_MODULE = 'standalone-validators.js';

/** The Ajv options every Stead validator is built with (the generator adds only `code`). */
export const ajvOptions = { allErrors: true, strict: true, allowUnionTypes: true, verbose: true } as const satisfies AjvOptions;

/**
 * Creates an Ajv instance with Stead's options, formats and keywords. The one place that
 * setup lives: the runtime fallback and the standalone generator both call it, so the two
 * can never drift. `code` is passed to Ajv as is (the generator's `{ source, esm }`).
 * Loads ajv and ajv-formats (CommonJS) synchronously on the first call.
 */
export function createAjv(code?: AjvOptions['code']): Ajv {
  const req = createRequire(import.meta.url);
  const { Ajv: AjvClass } = req('ajv') as typeof import('ajv');
  const addFormats = (req('ajv-formats') as { default: (ajv: Ajv) => Ajv }).default;
  const ajv = new AjvClass(code ? { ...ajvOptions, code } : { ...ajvOptions });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-sensitive', schemaType: 'boolean' });
  return ajv;
}

let sharedAjv: Ajv | undefined;
const referenced = new Map<string, object>();

/**
 * The shared Ajv instance, created on first call (loading Ajv then), holding every schema
 * given to registerSchemas. For callers that need Ajv itself.
 */
export function getAjv(): Ajv {
  if (!sharedAjv) {
    sharedAjv = createAjv();
    for (const s of referenced.values()) sharedAjv.addSchema(s);
  }
  return sharedAjv;
}

/**
 * Makes schemas that others reference by `$ref` known to the shared Ajv, without creating
 * it: they are added when it is first needed (or now, if it exists). Idempotent per `$id`.
 * Precompiled validators already embed what they reference.
 */
export function registerSchemas(schemas: readonly ({ readonly $id: string } & object)[]): void {
  for (const s of schemas) {
    if (referenced.has(s.$id)) continue;
    referenced.set(s.$id, s);
    if (sharedAjv && !sharedAjv.getSchema(s.$id)) sharedAjv.addSchema(s as object);
  }
}

/** sha256 (hex) of JSON.stringify(schema): what the generator records and compileGuard compares. */
export function schemaFingerprint(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/**
 * The precompiled validators by `$id`, loaded once at module evaluation. Empty when the
 * generated module does not exist (running from sources, or a build without the generator
 * step); a module that exists but fails to load is a broken build, and that error is thrown.
 */
const precompiled: ReadonlyMap<string, PrecompiledValidator> = await loadPrecompiled();

async function loadPrecompiled(): Promise<ReadonlyMap<string, PrecompiledValidator>> {
  const url = new URL(`./${STANDALONE_MODULE}`, import.meta.url);
  if (url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return new Map();
  const mod = (await import(url.href)) as { validators?: Record<string, PrecompiledValidator> };
  return new Map(Object.entries(mod.validators ?? {}));
}

/** The `$id`s that have a precompiled validator in this process (empty when running from sources). */
export function precompiledSchemaIds(): string[] {
  return [...precompiled.keys()];
}

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

const compiled = new Map<string, ValidateFn>();

/**
 * The validation function for a schema, resolved once per `$id`: the precompiled one when
 * its fingerprint matches this schema object's, else Ajv's compile of it.
 */
function validatorFor(schema: { readonly $id: string } & object): ValidateFn {
  let fn = compiled.get(schema.$id);
  if (fn) return fn;
  const pre = precompiled.get(schema.$id);
  fn = pre && pre.fingerprint === schemaFingerprint(schema) ? pre.validate : (getAjv().compile(schema as object) as ValidateFn);
  compiled.set(schema.$id, fn);
  return fn;
}

/**
 * compileGuard compiles a schema once (by `$id`) and returns its guard. Declare the result
 * with an explicit type (`const isCatalog: Guard<Catalog> = compileGuard(catalogSchema)`):
 * TypeScript needs that for assertion calls.
 */
export function compileGuard<T>(schema: { readonly $id: string } & object): Guard<T> {
  const validate = validatorFor(schema);
  return {
    schemaId: schema.$id,
    is: (data: unknown): data is T => validate(data) === true,
    check: (data: unknown) => (validate(data) ? [] : describeErrors(validate.errors)),
    assert(data: unknown): asserts data is T {
      if (!validate(data)) throw new SchemaError(schema.$id, describeErrors(validate.errors));
    },
  };
}

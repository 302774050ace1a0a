/**
 * Argument helpers of the operator commands: the action word, repeatable K=V flags, seconds,
 * ids, and a script file read with a size bound and its language guessed from the extension.
 */
import { promises as fsp } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict, with positionals; its errors become UsageErrors. */
export function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** The server's variable and parameter names (schemas/api/jobs.ts varName). */
const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const MAX_PAIRS = 200;
const MAX_VALUE = 64 * 1024;

/** `--param K=V` given any number of times → { K: V }; a key given twice is a mistake. */
export function keyValues(flag: string, given: readonly string[] | undefined, opts: { valueOptional?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const list = given ?? [];
  if (list.length > MAX_PAIRS) throw new UsageError(`at most ${MAX_PAIRS} ${flag} options`);
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq < 0 && !opts.valueOptional) throw new UsageError(`${flag} takes NAME=VALUE, got ${JSON.stringify(kv.slice(0, 100))}`);
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? undefined : kv.slice(eq + 1);
    if (!KEY.test(key) || FORBIDDEN_KEYS.has(key)) throw new UsageError(`${flag}: ${JSON.stringify(key.slice(0, 100))} is not a name (letters, digits and _, not starting with a digit, at most 64)`);
    if (Object.hasOwn(out, key)) throw new UsageError(`${flag} ${key} is given twice`);
    if (value !== undefined && Buffer.byteLength(value) > MAX_VALUE) throw new UsageError(`${flag} ${key}: the value is longer than ${MAX_VALUE} bytes`);
    Object.defineProperty(out, key, { value: value ?? '', enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A whole number of seconds in [min, max]. */
export function seconds(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 50))}`);
  return n;
}

/** A whole number in [min, max]. */
export function count(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 50))}`);
  return n;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The one positional argument naming a job, script, plan or schedule. */
export function oneId(what: string, positionals: readonly string[]): string {
  if (positionals.length === 0) throw new UsageError(`${what} is required`);
  if (positionals.length > 1) throw new UsageError(`one ${what} only; got ${positionals.length} arguments`);
  const id = positionals[0]!;
  if (!ID.test(id)) throw new UsageError(`${JSON.stringify(id.slice(0, 100))} is not a valid ${what} (letters, digits, _ . : -)`);
  return id;
}

export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0]!.slice(0, 100))}`);
}

export type ScriptLang = 'shell' | 'python';
export const MAX_SCRIPT_BYTES = 1024 * 1024;

export function lang(v: string | undefined): ScriptLang | undefined {
  if (v === undefined) return undefined;
  if (v !== 'shell' && v !== 'python') throw new UsageError(`--lang must be shell or python, got ${JSON.stringify(v.slice(0, 50))}`);
  return v;
}

/** The language of a script file from its extension: .py is python, anything else shell. */
export function langOfFile(file: string): ScriptLang {
  return extname(file).toLowerCase() === '.py' ? 'python' : 'shell';
}

/** Reads a script: a regular file of at most 1 MiB of UTF-8 text. */
export async function readScript(cwd: string, file: string): Promise<string> {
  const path = resolve(cwd, file);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (err) {
    throw new UsageError(`cannot read the script ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UsageError(`the script ${file} is not a regular file`);
    if (st.size > MAX_SCRIPT_BYTES) throw new UsageError(`the script ${file} is larger than ${MAX_SCRIPT_BYTES / 1024} KiB`);
    const buf = Buffer.alloc(MAX_SCRIPT_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_SCRIPT_BYTES) throw new UsageError(`the script ${file} is larger than ${MAX_SCRIPT_BYTES / 1024} KiB`);
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
    try {
      return text.decode(buf.subarray(0, bytesRead));
    } catch {
      throw new UsageError(`the script ${file} is not UTF-8 text`);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Opening a repository the way the commands do: the secret key from --key-file or the
 * STEAD_SECRET_KEY_FILE variable (passed in, never read from process.env here), and facts or
 * launch variables from a JSON/YAML file.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { readKeyFile } from '../vars/secret-box.js';
import { findForbiddenKeys, isVarMap, type VarMap } from '../vars/merge.js';
import { loadRepository } from './load-repository.js';
import type { Repository } from './repository.js';

export interface OpenRepositoryOptions {
  readonly keyFile?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly revision?: string | undefined;
  readonly signal?: AbortSignal;
}

export async function openRepository(dir: string, opts: OpenRepositoryOptions = {}): Promise<Repository> {
  const keyFile = opts.keyFile ?? opts.env?.['STEAD_SECRET_KEY_FILE'];
  const secretKey = keyFile ? await readKeyFile(keyFile, opts.signal) : undefined;
  return loadRepository(dir, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(secretKey ? { secretKey } : {}),
    ...(opts.revision ? { revision: opts.revision } : {}),
  });
}

export class DataFileError extends Error {
  readonly code = 'DATA_FILE_INVALID';
}

/** Reads a map from a JSON or YAML file (facts, launch variables); refuses prototype keys. */
export async function readDataFile(path: string, what: string, signal?: AbortSignal): Promise<VarMap> {
  let value: unknown;
  try {
    value = parseYaml(await readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) }), { maxAliasCount: 100 });
  } catch (e) {
    throw new DataFileError(`cannot read ${what} from ${path}: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  if (value === null || value === undefined) return {};
  if (!isVarMap(value)) throw new DataFileError(`${what} in ${path} must be a map`);
  const bad = findForbiddenKeys(value);
  if (bad.length > 0) throw new DataFileError(`${what} in ${path} use the forbidden key "${String(bad[0]![bad[0]!.length - 1])}"`);
  return value;
}

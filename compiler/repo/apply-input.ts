/**
 * For `stead apply DIR --host H` (cli/commands/apply.ts): load a manifest repository and
 * compile one host's catalog, with the blobs its files reference.
 */
import { compileHost, type CompileResult } from '../compile.js';
import { readKeyFile } from '../vars/secret-box.js';
import type { VarMap } from '../vars/merge.js';
import { loadRepository } from './load-repository.js';
import { formatRepoProblem } from './repo-problem.js';
import type { Repository } from './repository.js';

export interface RepositoryCatalogOptions {
  readonly signal?: AbortSignal;
  /** Facts of the host (e.g. gathered locally); default none. */
  readonly facts?: unknown;
  readonly launchVars?: VarMap;
  /** Secret key file; default: STEAD_SECRET_KEY_FILE from opts.env. */
  readonly keyFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RepositoryCatalog extends CompileResult {
  readonly repository: Repository;
  /** The problems as "file:line:col path: message" lines. */
  readonly messages: string[];
}

/** true when `dir` is a manifest repository (has stead.yaml) rather than a manifest folder. */
export { isRepositoryDir } from './is-repository-dir.js';

export async function loadRepositoryCatalog(dir: string, host: string, opts: RepositoryCatalogOptions = {}): Promise<RepositoryCatalog> {
  const keyFile = opts.keyFile ?? opts.env?.['STEAD_SECRET_KEY_FILE'];
  const secretKey = keyFile ? await readKeyFile(keyFile, opts.signal) : undefined;
  const repository = await loadRepository(dir, { ...(opts.signal ? { signal: opts.signal } : {}), ...(secretKey ? { secretKey } : {}) });
  const result = compileHost(repository, host, opts.facts ?? {}, opts.launchVars);
  return { ...result, repository, messages: result.problems.map(formatRepoProblem) };
}

/**
 * The compile worker thread: runs compiler/ (repository loading, whole-repository validation,
 * per-host compiles, variables views) off the server's event loop, so a slow or runaway
 * template never stalls polls, reports or health checks. Answers the messages WorkerCompiler
 * sends: { id, op, args } → { id, ok, value | error }. Loaded revisions are kept by id
 * (the newest few); a call naming an unknown revision loads it from its checkout first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compilerAdapter } from './compiler-adapter.js';
import type { Resource } from '../../schemas/resource.js';
import type { LoadedRevision } from './compiler-port.js';

interface Request {
  readonly id: number;
  readonly op: 'validate' | 'load' | 'compile' | 'compileResources' | 'variables' | 'explain';
  readonly dir: string;
  readonly revision: string;
  readonly host?: string;
  readonly facts?: Record<string, unknown>;
  readonly key?: string;
  readonly resources?: readonly Resource[];
  readonly launchVars?: Record<string, unknown>;
  readonly origin?: string;
}

const data = workerData as { secretKeyHex?: string };
const port = compilerAdapter(data.secretKeyHex ? { secretKey: Buffer.from(data.secretKeyHex, 'hex') } : {});
const loaded = new Map<string, Promise<LoadedRevision>>();
const never = new AbortController().signal;

function load(dir: string, revision: string): Promise<LoadedRevision> {
  let p = loaded.get(revision);
  if (!p) {
    p = port.load(dir, revision, never);
    p.catch(() => loaded.delete(revision));
    loaded.set(revision, p);
    while (loaded.size > 4) loaded.delete(loaded.keys().next().value!);
  }
  return p;
}

async function handle(m: Request): Promise<unknown> {
  switch (m.op) {
    case 'validate':
      return port.validate(m.dir, m.revision, never);
    case 'load':
      return { hosts: (await load(m.dir, m.revision)).hosts };
    case 'compile': {
      const r = await (await load(m.dir, m.revision)).compile(m.host!, m.facts, never);
      return { catalog: r.catalog, problems: r.problems, blobs: [...r.blobs.entries()] };
    }
    case 'compileResources': {
      const r = await (await load(m.dir, m.revision)).compileResources!(m.host!, m.resources ?? [], { facts: m.facts, ...(m.launchVars ? { launchVars: m.launchVars } : {}), origin: m.origin ?? 'job step' }, never);
      return { catalog: r.catalog, problems: r.problems, blobs: [...r.blobs.entries()] };
    }
    case 'variables': {
      const v = await (await load(m.dir, m.revision)).variables(m.host!, m.facts);
      return { yaml: v.yaml, flat: v.flat };
    }
    case 'explain': {
      const v = await (await load(m.dir, m.revision)).variables(m.host!, m.facts);
      return v.explain(m.key!);
    }
  }
}

parentPort!.on('message', (m: Request) => {
  handle(m).then(
    (value) => parentPort!.postMessage({ id: m.id, ok: true, value }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, ok: false, error: { message: (err as Error)?.message ?? String(err), code: (err as { code?: unknown })?.code } }),
  );
});

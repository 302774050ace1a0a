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
import type { InventoryRecord } from '../../schemas/api/inventory.js';
import type { InventoryOverlayInput, LoadedRevision } from './compiler-port.js';

interface Request {
  readonly id: number;
  readonly op: 'validate' | 'check' | 'load' | 'compile' | 'compileResources' | 'variables' | 'explain';
  readonly dir: string;
  readonly revision: string;
  readonly host?: string;
  readonly facts?: Record<string, unknown>;
  readonly key?: string;
  readonly resources?: readonly Resource[];
  readonly launchVars?: Record<string, unknown>;
  readonly origin?: string;
  readonly templates?: readonly string[];
  /** The store's inventory merged in (ADR 0018): its digest on every call, its records when the sender is not sure this worker has them. */
  readonly overlayDigest?: string;
  readonly overlayRecords?: readonly InventoryRecord[];
}

const data = workerData as { secretKeyHex?: string };
const port = compilerAdapter(data.secretKeyHex ? { secretKey: Buffer.from(data.secretKeyHex, 'hex') } : {});
const loaded = new Map<string, Promise<LoadedRevision>>();
const never = new AbortController().signal;

/** Overlays by digest (the newest few). */
const overlays = new Map<string, InventoryOverlayInput>();

/** The overlay a call names; OVERLAY_UNKNOWN when this worker has not been given it (WorkerCompiler resends it). */
function overlayOf(m: Request): InventoryOverlayInput | undefined {
  if (m.overlayDigest === undefined) return undefined;
  if (m.overlayRecords) {
    overlays.delete(m.overlayDigest);
    overlays.set(m.overlayDigest, { digest: m.overlayDigest, records: new Map(m.overlayRecords.map((r) => [r.hostname, r])) });
    while (overlays.size > 4) overlays.delete(overlays.keys().next().value!);
  }
  const o = overlays.get(m.overlayDigest);
  if (!o) throw Object.assign(new Error('this compile worker does not hold that inventory overlay'), { code: 'OVERLAY_UNKNOWN' });
  return o;
}

function loadWith(dir: string, revision: string, overlay: InventoryOverlayInput | undefined): Promise<LoadedRevision> {
  const key = overlay ? `${revision}@${overlay.digest}` : revision;
  let p = loaded.get(key);
  if (!p) {
    p = port.load(dir, revision, never, overlay);
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
    while (loaded.size > 4) loaded.delete(loaded.keys().next().value!);
  }
  return p;
}

async function handle(m: Request): Promise<unknown> {
  const overlay = overlayOf(m);
  const load = (dir: string, revision: string): Promise<LoadedRevision> => loadWith(dir, revision, overlay);
  switch (m.op) {
    case 'validate':
      return port.validate(m.dir, m.revision, never, overlay);
    case 'check':
      return port.check!(m.dir, m.revision, never, overlay, m.templates ?? []);
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

// The compiler's modules are loaded (imports run before this body): from now on a call's
// deadline counts (WorkerCompiler starts it on this message, not at spawn).
parentPort!.postMessage({ ready: true });

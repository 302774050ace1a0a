/**
 * What the job executor may use, bound by the composition root (cli/commands/agent.ts): the
 * Host seam (accounts, and the file resource's filesystem work), the blob cache and the
 * server's blob endpoint, the agent's private directories and its clock.
 */
import type { Host } from '../host/host.js';
import type { BlobCache } from '../daemon/blob-cache.js';

export interface JobContext {
  readonly host: Host;
  /** This host's name in the inventory (exported as STEAD_HOST). */
  readonly hostName: string;
  /** The helper libraries (stead.sh, stead.py): exported as STEAD_LIB, on PYTHONPATH. */
  readonly libDir: string;
  /** Private directory (0700) in the data dir for script files. */
  readonly tmpDir: string;
  /** The engine's state directory (file backups). */
  readonly stateDir: string;
  readonly blobs: Pick<BlobCache, 'read' | 'put'>;
  /** Fetches a blob's verified bytes from the server. */
  readonly fetchBlob: (sha256: string, signal: AbortSignal) => Promise<Buffer>;
  readonly now: () => number;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Between SIGTERM and SIGKILL when a script is killed. Default 5 s. */
  readonly killGraceMs?: number;
  /** Output kept per stream, from the start and from the end. Default 32 KiB each. */
  readonly headBytes?: number;
  readonly tailBytes?: number;
}

/** Why a running dispatch is being stopped: the server cancelled it, or the agent is shutting down. */
export type StopReason = 'cancel' | 'shutdown';

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

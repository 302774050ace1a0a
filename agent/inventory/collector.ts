/**
 * What the agent reports about its host (ADR 0018 §5): one small interface, `InventoryCollector`,
 * implemented once per source (dpkg, rpm, npm, pip, artifact, systemd, process, libvirt, docker,
 * podman, operator scripts). A collector returns its part of the report; a source that fails (a
 * missing tool, an engine that does not answer, a script that prints garbage) adds an `errors`
 * entry and never fails the report. External tools run through the Host with argv only, in the C
 * locale, with a deadline and an output bound (`runTool`).
 */
import type { AgentInventoryReport, TrackingConfig } from '../../schemas/index.js';
import type { Host } from '../host/host.js';
import { HostError } from '../host/host-error.js';
import { cLocale, tail } from '../providers/run-command.js';

export type PackageEntry = AgentInventoryReport['packages'][number];
export type ServiceEntry = AgentInventoryReport['services'][number];
export type VirtualEntry = AgentInventoryReport['virtuals'][number];
export type ErrorEntry = AgentInventoryReport['errors'][number];

/** What one collector found. */
export interface CollectorOutput {
  readonly packages?: readonly PackageEntry[];
  readonly services?: readonly ServiceEntry[];
  readonly virtuals?: readonly VirtualEntry[];
  readonly errors?: readonly ErrorEntry[];
}

/** What every collector may use. */
export interface CollectEnv {
  readonly host: Host;
  /** Aborts every tool and script (shutdown). */
  readonly signal: AbortSignal;
  /** Private directory (0700) for collector script files. */
  readonly tmpDir: string;
  /** The libvirt connection URI (--libvirt-uri); default qemu:///system. */
  readonly libvirtUri: string;
  /** The machine's /proc (tests may point elsewhere). */
  readonly procDir: string;
  /** The machine's account file, for uid → name of processes. */
  readonly passwdPath: string;
  /** Deadline of one tool run (ms). */
  readonly toolTimeoutMs: number;
  /** Between SIGTERM and SIGKILL when a collector script is killed. */
  readonly killGraceMs: number;
  readonly now: () => number;
}

export interface InventoryCollector {
  /** The source name used in `errors` entries (dpkg, systemd, libvirt, …). */
  readonly source: string;
  /** Whether the config asks anything of this collector (false: it is not run at all). */
  wanted(config: TrackingConfig): boolean;
  /** Never throws for what the source does: failures are `errors` entries. */
  collect(config: TrackingConfig, env: CollectEnv): Promise<CollectorOutput>;
}

/** A bounded error entry. */
export function errorEntry(source: string, message: string): ErrorEntry {
  return { source: source.slice(0, 128), message: message.length > 4096 ? `${message.slice(0, 4093)}…` : message };
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The tool is not installed (spawn failed with ENOENT). */
export class ToolMissingError extends Error {}

/** The tool's output passed its bound. */
export class OutputBoundError extends Error {}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly okCodes?: readonly number[];
  /** Bytes of stdout (and of stderr) kept; more is an OutputBoundError. Default 4 MiB. */
  readonly maxOutputBytes?: number;
  readonly timeoutMs?: number;
}

const DROPPED = /\n\[stead: \d+ more bytes dropped\]$/;

/**
 * Runs a tool with argv only through the Host (its own process group, killed at the deadline),
 * in the C locale. Throws ToolMissingError when it is not installed, OutputBoundError when its
 * stdout passed the bound, and an Error naming the command for a timeout or an exit code not in okCodes.
 */
export async function runTool(env: CollectEnv, file: string, args: readonly string[], o: ToolOptions = {}): Promise<ToolResult> {
  const max = o.maxOutputBytes ?? 4 * 1024 * 1024;
  let r;
  try {
    r = await env.host.exec(file, args, { env: { ...cLocale }, signal: env.signal, timeoutMs: o.timeoutMs ?? env.toolTimeoutMs, maxOutputBytes: max });
  } catch (err) {
    if (err instanceof HostError && err.code === 'SPAWN_FAILED' && /ENOENT/.test(err.message)) throw new ToolMissingError(`${file} is not installed (not found on PATH)`);
    throw err;
  }
  const what = [file, ...args].join(' ').slice(0, 200);
  if (r.timedOut) throw new Error(`${what} timed out after ${Math.round((o.timeoutMs ?? env.toolTimeoutMs) / 1000)} s and was killed`);
  if (DROPPED.test(r.stdout)) throw new OutputBoundError(`${what} printed more than ${max} bytes; ignored`);
  const ok = o.okCodes ?? [0];
  if (r.code === null || !ok.includes(r.code)) {
    const how = r.code === null ? `was killed by ${r.signal ?? 'a signal'}` : `exited with code ${r.code}`;
    const out = tail(r.stderr) || tail(r.stdout);
    throw new Error(`${what} ${how}${out ? `: ${out}` : ''}`);
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr.replace(DROPPED, '') };
}

/** Whether `file` can be run at all (a probe such as `virsh --version`); false when it is not installed. */
export async function toolPresent(env: CollectEnv, file: string, args: readonly string[]): Promise<boolean> {
  try {
    await runTool(env, file, args, { okCodes: [0, 1, 2], maxOutputBytes: 64 * 1024 });
    return true;
  } catch (err) {
    return !(err instanceof ToolMissingError);
  }
}

/** Package names a manager accepts on a command line (never an option: no leading "-"). */
export const SAFE_PACKAGE_NAME = /^[A-Za-z0-9@][A-Za-z0-9@+._/-]{0,127}$/;

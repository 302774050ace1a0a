/**
 * What the job core consumes from other parts of the server, stated as ports. Each is required
 * by JobService's constructor; server/compose.ts wires the real ones (the safety audit, the
 * script library, accounts, and the step runners of server/services/jobs/{files-step,probe,
 * local-run}.ts). Until a real one is wired, compose passes a fail-closed stand-in from
 * unwired.ts that refuses the work with a clear message — never a pass-through.
 */
import type { JobFile, JobResult } from '../../../schemas/job-protocol.js';
import type { BlobStore } from '../../store/types.js';

export type ScriptLang = 'shell' | 'python';

export interface AuditFinding {
  rule: string;
  mode: 'scan' | 'block';
  line: number;
  column: number;
  message: string;
  excerpt: string;
}

export interface AuditVerdict {
  verdict: 'pass' | 'warn' | 'block';
  findings: AuditFinding[];
}

/** The safety audit of scripts (compiler/audit through services.audit). */
export interface ScriptAuditor {
  check(input: { lang: ScriptLang; source: string }): Promise<AuditVerdict>;
}

export interface ResolvedScript {
  id: string;
  name: string;
  version: number;
  lang: ScriptLang;
  source: string;
  params: { name: string; required?: boolean; default?: string }[];
}

/** The script library (ScriptService). Throws ApiError NOT_FOUND for an unknown id or version. */
export interface ScriptSource {
  resolve(id: string, version?: number): Promise<ResolvedScript>;
}

/** Execution accounts. */
export interface AccountSource {
  get(name: string): Promise<{ name: string; user: string } | null>;
}

/** One file of a files step as the launch body gives it. */
export interface FilesStepFile {
  path: string;
  content?: string;
  contentBase64?: string;
  template?: string;
  mode?: string;
  owner?: string;
  group?: string;
}

export interface FilesStep {
  files: FilesStepFile[];
}

/** What a files runner may use while preparing one host's work. */
export interface FilesStepContext {
  readonly jobId: string;
  readonly step: number;
  /** Job variables (top layer over the host's variables for templates). */
  readonly vars: Readonly<Record<string, string>>;
  readonly dryRun: boolean;
  /** The bucket job blobs go to; GET /api/v1/blobs/:sha256 serves them to the dispatch's host. */
  readonly blobs: BlobStore;
  readonly signal: AbortSignal;
}

export interface ProbeSpec {
  tcp?: { port: number };
  http?: { port: number; path?: string; status?: number; https?: boolean };
  timeoutSeconds?: number;
}

export interface LocalScript {
  lang: ScriptLang;
  source: string;
  args?: string[];
  env: Record<string, string>;
}

/** The step kinds the core drives but does not implement. */
export interface StepRunners {
  /** Prepares one host's files (templates rendered, blobs stored in ctx.blobs); the agent applies them. */
  files(step: FilesStep, host: string, ctx: FilesStepContext): Promise<{ files: JobFile[]; blobs: Record<string, number> }>;
  /** Checks one target address from the server. */
  probe(probe: ProbeSpec, address: string, signal: AbortSignal): Promise<{ ok: boolean; message: string }>;
  /** Runs a script on the server itself (local: true), bounded by the timeout and the signal. */
  local(script: LocalScript, timeoutSeconds: number, signal: AbortSignal): Promise<JobResult>;
}

/** Every port of the job core. */
export interface JobPorts {
  readonly auditor: ScriptAuditor;
  readonly scripts: ScriptSource;
  readonly accounts: AccountSource;
  readonly runners: StepRunners;
}

/**
 * `stead manifests …`: the manifest repository on the server, edited without a checkout (the
 * console's editor from the command line, docs/cli.md): list and read the live files, check a
 * file as the console does while you type, preview a template for a host, change files and
 * variables in a draft, plan it, commit it to the manifest history and publish it (at once or
 * as a canary rollout).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FleetPlan } from '../../schemas/api/fleet-plan.js';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { noPositionals, parse } from '../operator/args.js';
import { commonOptions, runAction } from '../operator/actions.js';
import { connectionUsage } from '../operator/connection.js';
import { OperatorError, operatorExitCodes } from '../operator/errors.js';
import { cell, inert, printJson, printLines, table } from '../operator/output.js';
import { refuseRolloutOption } from '../operator/rollout-launch.js';
import { RolloutOptionError, rolloutFlagOptions, rolloutPolicyFromFlags } from '../operator/rollout-view.js';
import { withSession, type Session } from '../operator/session.js';
import { planText } from './plan.js';
import { problemLine, problemsOf } from './publish.js';

export const usage = `Usage: stead manifests <command> [options]

Reads and edits the manifest repository on the server, as the console's editor does. Changes
go into a draft (yours alone, kept by the server) on the live revision; plan it, commit it to
the manifest history (the one git push writes; validated as a push is) and publish it.

  stead manifests ls [--draft ID]                     the live files (with a draft's changes)
  stead manifests cat PATH [--draft ID]               one file
  stead manifests validate PATH [--file F] [--draft ID]
                                                      check a file (F, else the server's text):
                                                      YAML, shapes, references, template syntax
  stead manifests preview PATH --host H [--file F] [--draft ID]
                                                      a template rendered for host H
  stead manifests vars PATH [--host H] [--set KEY=VALUE]... [--unset KEY]... [--draft ID]
                                                      the flattened key table; --set/--unset edit
                                                      it into the draft (values are YAML)
  stead manifests edit PATH (--file F | --delete) [--draft ID]
                                                      write (or delete) a file in the draft
  stead manifests drafts                              your drafts
  stead manifests plan [--draft ID]                   the fleet plan of the draft
  stead manifests commit -m MSG [--draft ID] [--publish] [--batches EXPR ...]
                                                      commit; --publish: live at once; --batches:
                                                      publish as a canary rollout
  stead manifests publish [--draft ID] [--batches EXPR ...]
                                                      publish a committed draft
  stead manifests discard [--draft ID]                drop a draft

Without --draft, edit, vars --set and plan/commit/discard use your newest open draft (edit and
vars --set start one when you have none); publish uses your newest committed draft.

Options:
  --draft ID           the draft to use
  --file F             the file's new text, read from F
  --host H             preview: the host to render for; vars: an inventory file's host
  -m, --message M      commit: the commit message
  --batches EXPR, --gate manual|auto, --wait-between S, --max-failures N|P%
                       publish in batches, as stead publish does
  --json               JSON on stdout
  -h, --help           show this help

${connectionUsage}

Exit codes:
  0   done (validate: no error)
  1   validate found errors; preview did not render; the plan has hosts that fail
  2   the server refused the request (no such file or draft, main moved since the draft began,
      the draft does not compile, a rollout is active, ...)
  3   the token was refused or lacks the role (changes need admin, or an unscoped operator)
  4   the server could not be reached, timed out or failed
  64  usage error`;

const draftOpt = { draft: { type: 'string' } } as const;
const longTimeout = '600';

interface DraftView {
  readonly id: string;
  readonly state: string;
  readonly base: string | null;
  readonly changes: { path: string; action: string }[];
  readonly message?: string;
  readonly commit?: string;
  readonly revision?: string;
  readonly rollout?: string;
  readonly updatedAt?: string;
}

interface Problem {
  readonly code?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  readonly message: string;
  readonly severity?: string;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, { ls, cat, validate, preview, vars, edit, drafts, plan, commit, publish, discard });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

function onePath(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give the file: a path relative to the repository root (groups/web.yaml)' : `one PATH only; got ${positionals.length}`);
  return positionals[0]!;
}

function draftFlag(v: string | undefined): string | undefined {
  if (v !== undefined && !/^d-[0-9a-z]{6,40}$/.test(v)) throw new UsageError(`--draft: a draft id (d-…); got ${JSON.stringify(v.slice(0, 60))}`);
  return v;
}

async function readText(io: CliIo, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file.slice(0, 200)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function qs(params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** The draft named, or your newest draft in `state` (creating an open one when `create`). */
async function pickDraft(s: Session, id: string | undefined, state: 'open' | 'committed', create: boolean): Promise<string> {
  if (id !== undefined) return id;
  const list = (await s.client.request<{ drafts: DraftView[] }>('GET', '/manifests/drafts')).drafts;
  const found = list.find((d) => d.state === state);
  if (found) return found.id;
  if (create) return (await s.client.request<DraftView>('POST', '/manifests/drafts')).id;
  throw new OperatorError('NO_DRAFT', state === 'open' ? 'you have no open draft: start one with stead manifests edit PATH --file F' : 'you have no committed draft to publish', operatorExitCodes.refused);
}

function problemText(p: Problem): string {
  const where = `${p.file ?? ''}${p.line !== undefined ? `:${p.line}` : ''}${p.line !== undefined && p.column !== undefined ? `:${p.column}` : ''}`;
  return inert(`${where}: ${p.path ? `${p.path}: ` : ''}${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`);
}

function draftLines(d: DraftView): string[] {
  const out = [`draft ${d.id} (${d.state}) on ${d.base ? d.base.slice(0, 12) : 'nothing live'}: ${d.changes.length} file(s)`];
  for (const c of d.changes) out.push(`  ${c.action === 'delete' ? '-' : '~'} ${inert(c.path)}`);
  if (d.commit) out.push(`commit ${d.commit.slice(0, 12)}, revision ${d.revision?.slice(0, 12) ?? '?'}${d.message ? `: ${inert(d.message)}` : ''}`);
  if (d.rollout) out.push(`rollout ${d.rollout} (follow it with: stead rollout show ${d.rollout})`);
  return out;
}

async function ls(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt });
  if (values.help) return help(io);
  noPositionals(positionals);
  const draft = draftFlag(values.draft);
  return withSession(io, 'manifests ls', values, async (s) => {
    const t = await s.client.request<{ revision: string | null; files: { path: string; size: number; kind: string; draft?: string }[] }>('GET', `/manifests/tree${qs({ draft })}`);
    if (s.json) printJson(io, t);
    else if (t.files.length === 0) writeLine(io.stdout, 'No files: nothing is published yet.');
    else printLines(io, table(['PATH', 'KIND', 'BYTES', 'DRAFT'], t.files.map((f) => [f.path, f.kind, f.size, f.draft ?? '']), 100));
    return operatorExitCodes.ok;
  });
}

async function cat(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt });
  if (values.help) return help(io);
  const path = onePath(positionals);
  const draft = draftFlag(values.draft);
  return withSession(io, 'manifests cat', values, async (s) => {
    const f = await s.client.request<{ content: string }>('GET', `/manifests/file${qs({ path, draft })}`);
    if (s.json) printJson(io, f);
    else io.stdout.write(f.content);
    return operatorExitCodes.ok;
  });
}

async function validate(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt, file: { type: 'string' } });
  if (values.help) return help(io);
  const path = onePath(positionals);
  const draft = draftFlag(values.draft);
  const given = values.file !== undefined ? await readText(io, values.file) : undefined;
  return withSession(io, 'manifests validate', values, async (s) => {
    const content = given ?? (await s.client.request<{ content: string }>('GET', `/manifests/file${qs({ path, draft })}`)).content;
    const r = await s.client.request<{ ok: boolean; problems: Problem[]; elsewhere: Problem[] }>('POST', '/manifests/check', { path, content, ...(draft ? { draft } : {}) });
    if (s.json) printJson(io, r);
    else {
      for (const p of [...r.problems, ...r.elsewhere]) writeLine(io.stdout, problemText(p));
      if (r.ok) writeLine(io.stdout, `${inert(path)}: no errors`);
    }
    return r.ok ? operatorExitCodes.ok : operatorExitCodes.failed;
  });
}

async function preview(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt, file: { type: 'string' }, host: { type: 'string' } });
  if (values.help) return help(io);
  const template = onePath(positionals);
  if (values.host === undefined) throw new UsageError('--host H is required: the host to render the template for');
  const draft = draftFlag(values.draft);
  const content = values.file !== undefined ? await readText(io, values.file) : undefined;
  return withSession(io, 'manifests preview', values, async (s) => {
    const r = await s.client.request<{ ok: boolean; content?: string; sensitive?: boolean; truncated?: boolean; problems: Problem[] }>('POST', '/manifests/preview', { template, host: values.host, ...(content !== undefined ? { content } : {}), ...(draft ? { draft } : {}) });
    if (s.json) printJson(io, r);
    else if (!r.ok) for (const p of r.problems) writeLine(io.stderr, problemText(p));
    else if (r.sensitive) writeLine(io.stderr, `${inert(template)} depends on a secret for ${inert(values.host ?? "")}: not shown`);
    else {
      io.stdout.write(r.content ?? '');
      if (r.truncated) writeLine(io.stderr, '(truncated)');
    }
    return r.ok ? operatorExitCodes.ok : operatorExitCodes.failed;
  });
}

async function vars(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt, host: { type: 'string' }, set: { type: 'string', multiple: true }, unset: { type: 'string', multiple: true } });
  if (values.help) return help(io);
  const path = onePath(positionals);
  const draft = draftFlag(values.draft);
  const edits: { key: string; value?: string }[] = [];
  for (const kv of values.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set KEY=VALUE; got ${JSON.stringify(kv.slice(0, 80))}`);
    edits.push({ key: kv.slice(0, eq), value: kv.slice(eq + 1) });
  }
  for (const key of values.unset ?? []) edits.push({ key });
  if (edits.length > 200) throw new UsageError('at most 200 --set/--unset at once');
  return withSession(io, 'manifests vars', values, async (s) => {
    let t: { host?: string; rows: { key: string; value: string; line?: number }[]; content?: string };
    let id: string | undefined = draft;
    if (edits.length > 0) {
      id = await pickDraft(s, draft, 'open', true);
      t = await s.client.request('POST', `/manifests/drafts/${encodeURIComponent(id)}/vars`, { path, edits, ...(values.host !== undefined ? { host: values.host } : {}) });
    } else t = await s.client.request('GET', `/manifests/vars${qs({ path, host: values.host, draft })}`);
    if (s.json) printJson(io, { ...t, ...(id !== undefined ? { draft: id } : {}) });
    else {
      if (t.rows.length === 0) writeLine(io.stdout, 'No variables.');
      for (const r of t.rows) writeLine(io.stdout, `${inert(r.key)} = ${inert(r.value)}`);
      if (edits.length > 0) writeLine(io.stderr, `saved to draft ${id}`);
    }
    return operatorExitCodes.ok;
  });
}

async function edit(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt, file: { type: 'string' }, delete: { type: 'boolean' } });
  if (values.help) return help(io);
  const path = onePath(positionals);
  if ((values.file === undefined) === (values.delete !== true)) throw new UsageError('give --file F (the new text) or --delete');
  const draft = draftFlag(values.draft);
  const content = values.file !== undefined ? await readText(io, values.file) : undefined;
  return withSession(io, 'manifests edit', values, async (s) => {
    const id = await pickDraft(s, draft, 'open', true);
    const d = await s.client.request<DraftView>('POST', `/manifests/drafts/${encodeURIComponent(id)}/files`, content !== undefined ? { path, content } : { path, delete: true });
    const check = content !== undefined ? await s.client.request<{ ok: boolean; problems: Problem[]; elsewhere: Problem[] }>('POST', '/manifests/check', { path, content, draft: id }) : undefined;
    if (s.json) printJson(io, { draft: d, ...(check ? { check } : {}) });
    else {
      printLines(io, draftLines(d));
      for (const p of [...(check?.problems ?? []), ...(check?.elsewhere ?? [])]) writeLine(io.stderr, problemText(p));
    }
    return operatorExitCodes.ok;
  });
}

async function drafts(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  noPositionals(positionals);
  return withSession(io, 'manifests drafts', values, async (s) => {
    const r = await s.client.request<{ drafts: DraftView[] }>('GET', '/manifests/drafts');
    if (s.json) printJson(io, r);
    else if (r.drafts.length === 0) writeLine(io.stdout, 'No drafts.');
    else printLines(io, table(['DRAFT', 'STATE', 'FILES', 'UPDATED', 'COMMIT'], r.drafts.map((d) => [d.id, d.state, d.changes.length, d.updatedAt ?? '', d.commit?.slice(0, 12) ?? '']), 60));
    return operatorExitCodes.ok;
  });
}

async function plan(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt });
  if (values.help) return help(io);
  noPositionals(positionals);
  const draft = draftFlag(values.draft);
  return withSession(io, 'manifests plan', { ...values, 'request-timeout': values['request-timeout'] ?? longTimeout }, async (s) => {
    const id = await pickDraft(s, draft, 'open', false);
    let p: FleetPlan;
    try {
      p = await s.client.request<FleetPlan>('GET', `/manifests/drafts/${encodeURIComponent(id)}/plan`);
    } catch (err) {
      return refused(io, s, err);
    }
    if (s.json) printJson(io, p);
    else printLines(io, planText(p));
    return p.summary.failed > 0 ? operatorExitCodes.failed : operatorExitCodes.ok;
  });
}

/** A refusal with located problems (the draft does not compile): each printed as file:line: message. */
function refused(io: CliIo, s: Session, err: unknown): number {
  if (!(err instanceof OperatorError)) throw err;
  const problems = problemsOf(err.details);
  if (problems.length === 0) throw err;
  writeLine(io.stderr, `stead manifests: ${cell(err.message, 2000)}`);
  for (const p of problems) writeLine(io.stderr, problemLine(p));
  if (s.json) printJson(io, { error: { code: err.code, message: err.message, problems } });
  return err.exitCode;
}

async function commit(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt, message: { type: 'string', short: 'm' }, publish: { type: 'boolean' }, ...rolloutFlagOptions });
  if (values.help) return help(io);
  noPositionals(positionals);
  if (values.message === undefined || values.message.trim() === '') throw new UsageError('-m MSG is required: the commit message');
  if (values.message.length > 1000) throw new UsageError('-m: at most 1000 characters');
  const draft = draftFlag(values.draft);
  let policy;
  try {
    policy = rolloutPolicyFromFlags(values);
  } catch (err) {
    if (!(err instanceof RolloutOptionError)) throw err;
    return refuseRolloutOption(io, 'manifests commit', err, values.json === true);
  }
  return withSession(io, 'manifests commit', { ...values, 'request-timeout': values['request-timeout'] ?? longTimeout }, async (s) => {
    const id = await pickDraft(s, draft, 'open', false);
    let d: DraftView;
    try {
      d = await s.client.request<DraftView>('POST', `/manifests/drafts/${encodeURIComponent(id)}/commit`, { message: values.message, ...(values.publish === true ? { publish: true } : {}), ...(policy ? { rollout: policy } : {}) });
    } catch (err) {
      return refused(io, s, err);
    }
    if (s.json) printJson(io, d);
    else {
      printLines(io, draftLines(d));
      writeLine(io.stdout, d.state === 'published' ? (d.rollout ? 'Published as a rollout.' : 'Published: live on every host.') : `Committed, not live yet: stead manifests publish --draft ${d.id} [--batches …]`);
    }
    return operatorExitCodes.ok;
  });
}

async function publish(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt, ...rolloutFlagOptions });
  if (values.help) return help(io);
  noPositionals(positionals);
  const draft = draftFlag(values.draft);
  let policy;
  try {
    policy = rolloutPolicyFromFlags(values);
  } catch (err) {
    if (!(err instanceof RolloutOptionError)) throw err;
    return refuseRolloutOption(io, 'manifests publish', err, values.json === true);
  }
  return withSession(io, 'manifests publish', values, async (s) => {
    const id = await pickDraft(s, draft, 'committed', false);
    const d = await s.client.request<DraftView>('POST', `/manifests/drafts/${encodeURIComponent(id)}/publish`, policy ? { rollout: policy } : {});
    if (s.json) printJson(io, d);
    else {
      printLines(io, draftLines(d));
      writeLine(io.stdout, d.rollout ? 'Published as a rollout.' : 'Published: live on every host.');
    }
    return operatorExitCodes.ok;
  });
}

async function discard(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, ...draftOpt });
  if (values.help) return help(io);
  noPositionals(positionals);
  const draft = draftFlag(values.draft);
  return withSession(io, 'manifests discard', values, async (s) => {
    const id = await pickDraft(s, draft, 'open', false);
    await s.client.request('DELETE', `/manifests/drafts/${encodeURIComponent(id)}`);
    if (s.json) printJson(io, { discarded: id });
    else writeLine(io.stdout, `Discarded draft ${id}.`);
    return operatorExitCodes.ok;
  });
}

/**
 * `stead users list | add NAME | set NAME | delete NAME`: console and CLI users (ADR 0020).
 * Admins only. Passwords come from a prompt, stdin or --password-file, never from an argument.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions, runAction } from '../operator/actions.js';
import { noPositionals, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { cell, printJson, printLines, table } from '../operator/output.js';
import { readPassword } from '../operator/password.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead users list [--json]
       stead users add NAME --role admin|operator|viewer [--business P,...] [--idc I,...] [--password-file FILE]
       stead users set NAME [--role R] [--business P,...] [--idc I,...] [--no-scope] [--disable|--enable] [--reset-password [--password-file FILE]]
       stead users delete NAME

Users log in to the console and with \`stead login\`. viewer reads; operator acts on hosts
within its scope; admin does everything. A scope lists business-line patterns (pay = pay and
its modules, pay/*, pay/api) and IDC names; without one, every host. Admins only.

Options:
  --role R              admin, operator or viewer
  --business LIST       comma-separated business-line patterns of the scope
  --idc LIST            comma-separated IDC names of the scope
  --no-scope            set: remove the scope (every host)
  --disable, --enable   set: disable (sessions stop within seconds) or enable the user
  --reset-password      set: give a new password
  --password-file FILE  the password, one line (- for stdin); else asked on the terminal or read from stdin
  --json                JSON on stdout
  -h, --help            show this help

${connectionUsage}

Exit codes:
  0   done
  2   the server refused the request
  3   the token was refused or is not an admin's
  4   the server could not be reached, timed out or failed
  64  usage error`;

const userOptions = {
  ...commonOptions,
  role: { type: 'string' },
  business: { type: 'string' },
  idc: { type: 'string' },
  'no-scope': { type: 'boolean' },
  disable: { type: 'boolean' },
  enable: { type: 'boolean' },
  'reset-password': { type: 'boolean' },
  'password-file': { type: 'string' },
} as const;

const NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

function nameOf(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError('one user NAME is required');
  const name = positionals[0]!;
  if (!NAME.test(name)) throw new UsageError(`${JSON.stringify(name.slice(0, 80))} is not a user name (a letter, then letters, digits, . _ -; at most 64)`);
  return name;
}

function csv(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function scopeOf(values: { business?: string | undefined; idc?: string | undefined }): { business?: string[]; idc?: string[] } | undefined {
  const business = csv(values.business);
  const idc = csv(values.idc);
  if (business === undefined && idc === undefined) return undefined;
  return { ...(business ? { business } : {}), ...(idc ? { idc } : {}) };
}

function scopeText(scope: unknown): string {
  const s = scope as { business?: string[]; idc?: string[] } | undefined;
  const parts: string[] = [];
  if (s?.business?.length) parts.push(`business ${s.business.join(',')}`);
  if (s?.idc?.length) parts.push(`idc ${s.idc.join(',')}`);
  return parts.length ? parts.join('; ') : 'all hosts';
}

function describe(u: Record<string, unknown>): string {
  return `${String(u['name'])} (${String(u['role'])}, ${scopeText(u['scope'])}${u['disabled'] === true ? ', disabled' : ''})`;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  noPositionals(positionals);
  return withSession(io, 'users list', values, async (s) => {
    const answer = await s.client.request<{ users: Record<string, unknown>[] }>('GET', '/users');
    if (s.json) printJson(io, answer);
    else if (answer.users.length === 0) writeLine(io.stdout, 'No users.');
    else printLines(io, table(['NAME', 'ROLE', 'SCOPE', 'STATE', 'LAST LOGIN'], answer.users.map((u) => [u['name'], u['role'], scopeText(u['scope']), u['disabled'] === true ? 'disabled' : 'active', u['lastLoginAt'] ?? 'never']), 64));
    return operatorExitCodes.ok;
  });
}

async function add(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, userOptions);
  if (values.help) return help(io);
  const name = nameOf(positionals);
  if (values.role === undefined) throw new UsageError('--role admin|operator|viewer is required');
  const scope = scopeOf(values);
  const password = await readPassword(io, values['password-file'], `Password for the new user ${name}: `);
  return withSession(io, 'users add', values, async (s) => {
    const u = await s.client.request<Record<string, unknown>>('POST', '/users', { name, role: values.role, password, ...(scope ? { scope } : {}) });
    if (s.json) printJson(io, u);
    else writeLine(io.stdout, `User ${cell(describe(u), 200)} added`);
    return operatorExitCodes.ok;
  });
}

async function set(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, userOptions);
  if (values.help) return help(io);
  const name = nameOf(positionals);
  if (values.disable && values.enable) throw new UsageError('give --disable or --enable, not both');
  const scope = scopeOf(values);
  if (scope && values['no-scope']) throw new UsageError('give a scope (--business/--idc) or --no-scope, not both');
  const body: Record<string, unknown> = {
    ...(values.role !== undefined ? { role: values.role } : {}),
    ...(scope ? { scope } : values['no-scope'] ? { scope: null } : {}),
    ...(values.disable ? { disabled: true } : values.enable ? { disabled: false } : {}),
  };
  if (values['reset-password']) body['password'] = await readPassword(io, values['password-file'], `New password for ${name}: `);
  if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give --role, --business/--idc, --no-scope, --disable/--enable or --reset-password');
  return withSession(io, 'users set', values, async (s) => {
    const u = await s.client.request<Record<string, unknown>>('PATCH', `/users/${encodeURIComponent(name)}`, body);
    if (s.json) printJson(io, u);
    else writeLine(io.stdout, `User ${cell(describe(u), 200)} saved${body['password'] !== undefined ? ' (password reset)' : ''}`);
    return operatorExitCodes.ok;
  });
}

async function remove(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) return help(io);
  const name = nameOf(positionals);
  return withSession(io, 'users delete', values, async (s) => {
    await s.client.request('DELETE', `/users/${encodeURIComponent(name)}`);
    if (s.json) printJson(io, { deleted: name });
    else writeLine(io.stdout, `User ${cell(name, 64)} deleted; its sessions ended`);
    return operatorExitCodes.ok;
  });
}

function help(io: CliIo): number {
  writeLine(io.stdout, usage);
  return operatorExitCodes.ok;
}

export function run(args: string[], io: CliIo): Promise<number> {
  return runAction(args, io, usage, { list, add, set, delete: remove });
}

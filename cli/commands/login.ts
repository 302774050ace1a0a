/**
 * `stead login --user NAME`: asks the server for a session (POST /api/v1/login) and saves the
 * session token where the other commands find it: --token-file FILE, else $STEAD_TOKEN_FILE,
 * else ~/.config/stead/token ($XDG_CONFIG_HOME/stead/token), mode 0600.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions } from '../operator/actions.js';
import { noPositionals, parse } from '../operator/args.js';
import { connectionUsage, defaultTokenFile, resolveConnection, serverUrl } from '../operator/connection.js';
import { OperatorClient } from '../operator/client.js';
import { OperatorError, operatorExitCodes, reportFailure } from '../operator/errors.js';
import { printJson } from '../operator/output.js';
import { readPassword } from '../operator/password.js';

export const usage = `Usage: stead login --user NAME [--password-file FILE] [--token-file FILE] [--json]

Logs in with a user name and password and saves the session token (sst_…) to the token file,
which every other command then reads: --token-file FILE, else $STEAD_TOKEN_FILE, else
~/.config/stead/token ($XDG_CONFIG_HOME/stead/token). The file is written with mode 0600.
The password is asked for on a terminal (no echo), else read from stdin, or from
--password-file FILE (- for stdin). A session lasts 8 hours; \`stead logout\` ends it.

Options:
  --user NAME            the user name (required)
  --password-file FILE   read the password from FILE (one line; not readable by others)
  --json                 JSON on stdout (the user, role, scope and expiry; never the token)
  -h, --help             show this help

${connectionUsage}

Exit codes:
  0   logged in
  3   the user name or password is not right
  4   the server could not be reached, timed out or failed
  64  usage error`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions, user: { type: 'string', short: 'u' }, 'password-file': { type: 'string' } });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  noPositionals(positionals);
  if (values.user === undefined || values.user === '') throw new UsageError('--user NAME is required');
  const file = values['token-file'] ?? (io.env['STEAD_TOKEN_FILE']?.trim() || undefined) ?? defaultTokenFile(io.env);
  if (file === undefined) throw new UsageError('no place for the token: give --token-file FILE (or set STEAD_TOKEN_FILE or HOME)');
  const target = resolve(io.cwd, file);
  serverUrl(values.server, io.env);
  const password = await readPassword(io, values['password-file'], `Password for ${values.user}: `);
  // No token yet: the connection carries none (POST /api/v1/login is public).
  const conn = await resolveConnection({ ...values, 'token-file': undefined }, { ...io, env: { ...io.env, STEAD_TOKEN_FILE: '', STEAD_TOKEN: 'login', XDG_CONFIG_HOME: '', HOME: '' } });
  const client = new OperatorClient({ ...conn, token: '', tokenSource: 'the login' });
  try {
    const answer = await client.request<{ user: string; role: string; scope?: unknown; token: string; expiresAt: string }>('POST', '/login', { user: values.user, password });
    await fsp.mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, `${answer.token}\n`, { mode: 0o600 });
    await fsp.rename(tmp, target);
    if (values.json) printJson(io, { user: answer.user, role: answer.role, ...(answer.scope ? { scope: answer.scope } : {}), expiresAt: answer.expiresAt, tokenFile: target });
    else writeLine(io.stdout, `Logged in as ${answer.user} (${answer.role}) until ${answer.expiresAt}; token saved to ${target}`);
    return operatorExitCodes.ok;
  } catch (err) {
    if (err instanceof OperatorError) return reportFailure(io, 'login', err, values.json === true);
    throw err;
  } finally {
    client.close();
  }
}

/**
 * `stead logout`: ends the session of the saved login (POST /api/v1/logout) and deletes the
 * token file `stead login` wrote.
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { writeLine, type CliIo } from '../io.js';
import { commonOptions } from '../operator/actions.js';
import { noPositionals, parse } from '../operator/args.js';
import { connectionUsage, defaultTokenFile } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { printJson } from '../operator/output.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead logout [--token-file FILE] [--json]

Ends the login session whose token the token file holds and deletes that file (the token file
of \`stead login\`: --token-file, $STEAD_TOKEN_FILE or ~/.config/stead/token).

Options:
  --json       JSON on stdout
  -h, --help   show this help

${connectionUsage}

Exit codes:
  0   logged out
  2   the server refused the request (an operator token, not a session)
  3   the session had already ended
  4   the server could not be reached, timed out or failed
  64  usage error`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, commonOptions);
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  noPositionals(positionals);
  const file = values['token-file'] ?? (io.env['STEAD_TOKEN_FILE']?.trim() || undefined) ?? defaultTokenFile(io.env);
  return withSession(io, 'logout', values, async (s) => {
    await s.client.request('POST', '/logout');
    if (file !== undefined) await fsp.rm(resolve(io.cwd, file), { force: true });
    if (s.json) printJson(io, { loggedOut: true });
    else writeLine(io.stdout, 'Logged out');
    return operatorExitCodes.ok;
  });
}

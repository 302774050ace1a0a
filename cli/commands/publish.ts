/**
 * `stead publish DIR`: upload a manifest checkout as a new revision (POST /api/v1/revisions),
 * to every host at once or, with --batches, as a canary rollout (docs/cli.md, ADR 0017).
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { parse } from '../operator/args.js';
import { commonOptions } from '../operator/actions.js';
import { connectionUsage } from '../operator/connection.js';
import { OperatorError, operatorExitCodes } from '../operator/errors.js';
import { cell, jsonText, printJson } from '../operator/output.js';
import { readRepositoryFiles } from '../operator/repo-files.js';
import { refuseRolloutOption } from '../operator/rollout-launch.js';
import { RolloutOptionError, rolloutFlagOptions, rolloutPolicyFromFlags, stateLine } from '../operator/rollout-view.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead publish DIR [--message M] [--batches EXPR] [--gate manual|auto]
                     [--wait-between S] [--max-failures N|P%] [--json]

Uploads the manifest repository in DIR (every file but .git) as a new revision. The server
validates it as a whole (schemas, references, a compile of every host); a refused revision
changes nothing and every problem is printed as file:line: message.

Without --batches the revision goes live on every host at once. With --batches it is delivered
as a canary rollout: hosts of started batches get it, the others keep the live revision until
the rollout completes (stead rollout show ID follows it).

Options:
  --message M          what changed, for the history
  --batches EXPR       deliver in batches: cumulative counts and percentages, "+" steps:
                       1,10%,+20%,100% = one host, 10 %, then 20 % more each time, the rest
  --gate G             manual: every batch after the first waits for stead rollout continue;
                       auto (default): the next batch follows when the last one is healthy
  --wait-between S     seconds to wait after a healthy batch (default 0)
  --max-failures N|P%  pause when failures exceed N hosts or P % of the hosts (per batch and
                       overall); default: any failure pauses
  --json               JSON on stdout: {"revision", "rollout": {"id", "state", "batches"}}
                       (no rollout key when published to every host at once)
  -h, --help           show this help

${connectionUsage}
                           (publish: default 600, the server compiles every host first)

Exit codes:
  0   published (or the rollout started)
  2   the server refused it (invalid repository, a rollout already active, ...), or an
      invalid --batches, --gate, --wait-between or --max-failures
  3   the token was refused or lacks the role (publishing needs admin)
  4   the server could not be reached, timed out or failed
  64  usage error (no DIR, an unreadable directory, an unknown option)`;

/** Default --request-timeout of publish: validating a big repository compiles every host. */
const PUBLISH_TIMEOUT_SECONDS = 600;

interface Problem {
  readonly file?: unknown;
  readonly line?: unknown;
  readonly message?: unknown;
}

/** The located problems of a refused revision (details.problems of REVISION_INVALID / COMPILE_FAILED). */
export function problemsOf(details: unknown): Problem[] {
  const list = (details as { problems?: unknown } | undefined)?.problems;
  return Array.isArray(list) ? (list as unknown[]).filter((p): p is Problem => p !== null && typeof p === 'object').slice(0, 1000) : [];
}

/** "roles/app/templates/motd.j2:3: unknown filter 'shout'" */
export function problemLine(p: Problem): string {
  const line = typeof p.line === 'number' ? `:${p.line}` : '';
  return `${cell(p.file ?? '', 300)}${line}: ${cell(p.message ?? '', 1000)}`;
}

interface Published {
  readonly id?: unknown;
  readonly fileCount?: unknown;
  readonly live?: unknown;
  readonly commit?: unknown;
  readonly rollout?: { readonly id?: unknown; readonly state?: unknown; readonly batches?: unknown; readonly gate?: unknown; readonly nextAt?: unknown; readonly reason?: unknown };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    ...commonOptions,
    message: { type: 'string', short: 'm' },
    ...rolloutFlagOptions,
  });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  if (positionals.length === 0) throw new UsageError('DIR is required: the manifest repository to publish');
  if (positionals.length > 1) throw new UsageError(`one DIR only; got ${positionals.length} arguments`);
  if (values.message !== undefined && values.message.length > 1000) throw new UsageError('--message is longer than 1000 characters');
  let policy;
  try {
    policy = rolloutPolicyFromFlags(values);
  } catch (err) {
    if (!(err instanceof RolloutOptionError)) throw err;
    return refuseRolloutOption(io, 'publish', err, values.json === true);
  }
  const files = await readRepositoryFiles(io.cwd, positionals[0]!);
  const body = { files, encoding: 'base64', ...(values.message !== undefined ? { message: values.message } : {}), ...(policy ? { rollout: policy } : {}) };
  // The server validates and compiles every host before it answers: more than the usual 30 s.
  return withSession(io, 'publish', { ...values, 'request-timeout': values['request-timeout'] ?? String(PUBLISH_TIMEOUT_SECONDS) }, async (s) => {
    let answer: Published;
    try {
      answer = (await s.client.request<Published>('POST', '/revisions', body)) ?? {};
    } catch (err) {
      if (!(err instanceof OperatorError)) throw err;
      const problems = problemsOf(err.details);
      if (problems.length === 0) throw err;
      writeLine(io.stderr, `stead publish: ${err.message}`);
      for (const p of problems) writeLine(io.stderr, problemLine(p));
      if (s.json) {
        writeLine(io.stdout, jsonText({ error: { code: err.code, message: err.message, ...(err.status !== undefined ? { status: err.status } : {}), problems } }));
      }
      return err.exitCode;
    }
    const rollout = answer.rollout;
    if (s.json) {
      printJson(io, { revision: answer.id, ...(rollout ? { rollout: { id: rollout.id, state: rollout.state, batches: rollout.batches } } : {}) });
      return operatorExitCodes.ok;
    }
    const files = typeof answer.fileCount === 'number' ? ` (${answer.fileCount} files)` : '';
    const commit = typeof answer.commit === 'string' ? `, commit ${cell(answer.commit.slice(0, 12))}` : '';
    if (!rollout) {
      writeLine(io.stdout, `Published revision ${cell(answer.id, 64)}${files}${commit}: live on every host.`);
      return operatorExitCodes.ok;
    }
    writeLine(io.stdout, `Stored revision ${cell(answer.id, 64)}${files}${commit}; the live revision stays for hosts outside started batches.`);
    const batches = Array.isArray(rollout.batches) ? rollout.batches : [];
    const sizes = batches.map((b) => (b !== null && typeof b === 'object' && Array.isArray((b as { hosts?: unknown }).hosts) ? (b as { hosts: unknown[] }).hosts.length : b));
    const shape = batches.length > 0 ? `${batches.length} batches (${sizes.map((n) => cell(n)).join(', ')} hosts)` : `${cell(rollout.batches)} batches`;
    writeLine(io.stdout, `Rollout ${cell(rollout.id, 64)}: ${stateLine(rollout)}, ${shape}.`);
    writeLine(io.stdout, `Follow it with: stead rollout show ${cell(rollout.id, 64)}`);
    return operatorExitCodes.ok;
  });
}

/**
 * `stead blobs`: the blob buckets the server prunes (ADR 0022): blobs, bytes and how many
 * documents reference, per bucket, and the retention in force.
 */
import type { BlobStatsView } from '../../schemas/api/blobs.js';
import { writeLine, type CliIo } from '../io.js';
import { noPositionals, parse } from '../operator/args.js';
import { commonOptions } from '../operator/actions.js';
import { connectionUsage } from '../operator/connection.js';
import { operatorExitCodes } from '../operator/errors.js';
import { printJson, printLines, table } from '../operator/output.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead blobs [--json]

The server's blob buckets (revision files, catalog file contents, job files): blobs and bytes
each holds, how many (and how many bytes) a stored document references, and the retention in force
(stead server --blob-retention-days). Unreferenced blobs are deleted that many days after they
were last needed; see docs/operations.md.

Options:
  --json            the figures as JSON (GET /api/v1/blobs)
  -h, --help        show this help

${connectionUsage}

Exit codes:
  0   done
  3   the token was refused
  4   the server could not be reached, timed out or failed
  64  usage error`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...commonOptions });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  noPositionals(positionals);
  return withSession(io, 'blobs', values, async (s) => {
    const b = await s.client.request<BlobStatsView>('GET', '/blobs');
    if (s.json) printJson(io, b);
    else printLines(io, blobsText(b));
    return operatorExitCodes.ok;
  });
}

export function blobsText(b: BlobStatsView): string[] {
  return [
    // An older server sends no referencedBytes: '-' rather than "undefined".
    ...table(['BUCKET', 'BLOBS', 'BYTES', 'REFERENCED', 'REFERENCED BYTES'], b.buckets.map((x) => [x.bucket, x.blobs, x.bytes, x.referenced, (x as Partial<typeof x>).referencedBytes ?? '-'])),
    '',
    b.retentionDays === null ? 'Retention: off (unreferenced blobs are kept)' : `Retention: unreferenced blobs are deleted ${b.retentionDays} day(s) after they were last needed`,
  ];
}

/**
 * The server process of bench:jobs: the real composition root (composeServer, embedded store,
 * createHttpServer with its timeouts) on 127.0.0.1, with a repository published at start.
 * Everything is as `stead server` wires it, the script safety audit included (the launch of the
 * benchmark's script pays for its audit, once per launch).
 *
 * Usage (by jobs-bench.ts): node jobs-bench-server.js <data-dir> <repo.json>
 * Prints {"event":"listening","url":…} on stdout; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { composeServer } from '../../server/compose.js';
import { createLogger } from '../../server/log.js';
import { filesFromJson } from '../../server/services/repository-files.js';

async function main(): Promise<void> {
  const [dataDir, repoJson] = process.argv.slice(2);
  if (!dataDir || !repoJson) throw new Error('usage: jobs-bench-server <data-dir> <repo.json>');
  const server = await composeServer({
    dataDir,
    log: createLogger({ level: 'warn', write: (l) => void process.stderr.write(`${l}\n`) }),
    defaultMetrics: false,
  });
  const files = filesFromJson(JSON.parse(readFileSync(repoJson, 'utf8')) as Record<string, string>, 'utf8');
  await server.services.revisions.publish(files, { createdBy: 'bench:jobs', message: 'bench' }, AbortSignal.timeout(600_000));
  const http = server.createHttpServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` })}\n`);
  process.once('SIGTERM', () => {
    http.closeAllConnections();
    http.close(() => void server.close().then(() => process.exit(0)));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`jobs-bench-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

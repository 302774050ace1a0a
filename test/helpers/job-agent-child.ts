/**
 * A child process running only the agent's job channel (agent/jobs/job-agent.ts) against a
 * server URL, for the crash test (test/agent/jobs/job-crash.test.ts), which SIGKILLs it
 * mid-script and starts it again on the same data dir. argv: SERVER_URL DATA_DIR.
 * Logs JSON lines on stderr; stops on SIGTERM.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { AgentClient } from '../../agent/client/agent-client.js';
import { BlobCache } from '../../agent/daemon/blob-cache.js';
import { createJsonLogger } from '../../agent/daemon/json-logger.js';
import { createNodeHost } from '../../agent/host/node-host.js';
import { runJobAgent } from '../../agent/jobs/job-agent.js';

const [serverUrl, dataDir] = process.argv.slice(2);
if (!serverUrl || !dataDir) {
  process.stderr.write('usage: job-agent-child SERVER_URL DATA_DIR\n');
  process.exit(64);
}
const client = new AgentClient({ serverUrl, host: 'web-1', privateKey: generateKeyPairSync('ed25519').privateKey });
const blobs = new BlobCache(join(dataDir, 'blobs'));
await blobs.open();
const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
await runJobAgent({ client, dataDir, host: createNodeHost({ root: '/' }), blobs, stateDir: join(dataDir, 'state'), log: createJsonLogger({ stream: process.stderr, level: 'debug', bindings: { pid: process.pid } }), waitSeconds: 2, minBackoffMs: 50, maxBackoffMs: 500 }, ac.signal);
client.close();

/**
 * Exactly once across a real crash: an agent process (test/helpers/job-agent-child.ts) running
 * a dispatch is killed with SIGKILL mid-script, then started again on the same data dir against
 * a PROTOCOL STUB of the server (test/helpers/job-protocol-stub.ts) that even offers the
 * dispatch again. The script must not run a second time; the dispatch is answered interrupted,
 * and the script the crash left running (its own process group) is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startJobProtocolStub } from '../../helpers/job-protocol-stub.js';
import { scriptWork, tempDir } from './job-fixtures.js';

const here = fileURLToPath(import.meta.url);
const childFile = join(dirname(here), '../../helpers', `job-agent-child${extname(here)}`);
// Run the child the way this test runs: through tap's TypeScript loader from sources, plain node from dist/.
const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript') || a === '--enable-source-maps');

function startAgent(url: string, dataDir: string, log: string[]): ChildProcess {
  const child = spawn(process.execPath, [...loader, childFile, url, dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (b: Buffer) => log.push(b.toString('utf8')));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

t.test('an agent killed with SIGKILL mid-script never runs the script again after a restart', async (t) => {
  const stub = await startJobProtocolStub('web-1');
  t.teardown(() => stub.close());
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const count = join(dir, 'count');
  const pgid = join(dir, 'pgid');
  const w = scriptWork(`echo run >> ${count}; echo $$ > ${pgid}; sleep 300`);
  t.teardown(() => {
    // The orphaned script (its own process group survives the agent's SIGKILL).
    if (existsSync(pgid)) {
      try {
        process.kill(-Number(readFileSync(pgid, 'utf8')), 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  const log: string[] = [];
  stub.add(w);
  const first = startAgent(stub.url, dataDir, log);
  t.teardown(() => first.kill('SIGKILL'));
  await stub.until(() => existsSync(pgid) && readFileSync(pgid, 'utf8').endsWith('\n'), 60_000);
  // The ledger records the script's process group right after the spawn (a crash before that
  // write leaves the group running: best effort); wait for it, so the kill lands after it.
  const ledgerDir = join(dataDir, 'jobs', 'ledger');
  await stub.until(() => readdirSync(ledgerDir).some((f) => f.endsWith('.json') && readFileSync(join(ledgerDir, f), 'utf8').includes('"pgid"')), 30_000);
  first.kill('SIGKILL');
  await exited(first);
  t.equal(stub.dispatches.get(w.id)?.startAcks, 1);
  t.equal(stub.dispatches.get(w.id)?.results.length, 0, 'no result: the agent died mid-script');

  // A server that lost the start acknowledgement offers it again: still never run twice.
  stub.dispatches.get(w.id)!.state = 'dispatched';
  const second = startAgent(stub.url, dataDir, log);
  t.teardown(() => second.kill('SIGKILL'));
  await stub.until(() => stub.dispatches.get(w.id)?.results.length === 1, 60_000);
  const result = stub.dispatches.get(w.id)!.results[0]!;
  t.equal(result.state, 'interrupted');
  t.match(result.message, /restarted while this dispatch ran; it is not run again \(its processes, still running, were killed\)/);
  const leader = Number(readFileSync(pgid, 'utf8'));
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    try {
      gone = /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${leader}/stat`, 'utf8'));
    } catch {
      gone = true;
    }
    if (!gone) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(gone, 'the script the crash left running was killed by the restarted agent');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(readFileSync(count, 'utf8'), 'run\n', 'the script ran exactly once');
  t.equal(stub.dispatches.get(w.id)?.startAcks, 1, 'the restarted agent did not even ask to start it again');
  second.kill('SIGTERM');
  await exited(second);
  t.equal(second.exitCode, 0, 'stops cleanly on SIGTERM');
  t.match(log.join(''), /answered interrupted/);
});

/**
 * `stead server --job-transfer-concurrency / --job-transfer-bandwidth` (cli/commands/server.ts):
 * the rate syntax, usage errors (exit 64) for bad values, and the composed server holding a
 * TransferLimiter with the configured limits.
 */
import t from 'tap';
import { parseRate } from '../../cli/commands/server.js';
import { runStead } from '../helpers/cli.js';
import { startServer } from '../helpers/server-fixture.js';

t.test('rates: bytes per second with K, M, G (powers of 1024)', async (t) => {
  t.equal(parseRate('0'), 0);
  t.equal(parseRate('1500'), 1500);
  t.equal(parseRate('512K'), 512 * 1024);
  t.equal(parseRate('50m'), 50 * 1024 * 1024);
  t.equal(parseRate(' 1G '), 1024 ** 3);
  for (const bad of ['', '-1', '1.5M', '10T', 'fast', '999999999999999G']) t.equal(parseRate(bad), undefined, JSON.stringify(bad));
});

t.test('bad values are usage errors', async (t) => {
  const dir = t.testdir();
  const conc = await runStead(['server', '--data-dir', dir, '--job-transfer-concurrency', '0']);
  t.equal(conc.code, 64);
  t.match(conc.stderr, /--job-transfer-concurrency must be an integer 1-10000/);
  const bw = await runStead(['server', '--data-dir', dir, '--job-transfer-bandwidth', 'lots']);
  t.equal(bw.code, 64);
  t.match(bw.stderr, /--job-transfer-bandwidth must be a number of bytes per second/);
  const help = await runStead(['server', '--help']);
  t.match(help.stdout, /--job-transfer-concurrency N/);
  t.match(help.stdout, /--job-transfer-bandwidth RATE/);
});

t.test('the server holds a limiter with the configured limits (defaults: 32, unlimited)', async (t) => {
  const dflt = await startServer(t);
  t.equal(dflt.server.services.jobTransfers.maxConcurrent, 32);
  t.equal(dflt.server.services.jobTransfers.bytesPerSecond, 0);
  const set = await startServer(t, { jobTransfer: { concurrency: 3, bytesPerSecond: 1024 } });
  t.equal(set.server.services.jobTransfers.maxConcurrent, 3);
  t.equal(set.server.services.jobTransfers.bytesPerSecond, 1024);
});

/**
 * runCommand's failure message: the command, how it ended, and the reason — including error
 * lines printed on stdout before the last stderr line (apt prints dpkg's reason there).
 */
import t from 'tap';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { ProviderError } from '../../../agent/providers/types.js';
import { runCommand } from '../../../agent/providers/run-command.js';
import { osContext } from '../../helpers/os-context.js';

t.test('a failure keeps the error lines of stdout beside the tail of stderr', async (t) => {
  const dir = t.testdir({});
  const ctx = osContext(createNodeHost({ root: '/' }), dir);
  const script = 'echo "Unpacking p (1.1) ..."; echo "dpkg: error processing archive p.deb (--unpack):"; echo " new p package pre-installation script subprocess returned error exit status 1"; echo "E: Sub-process /usr/bin/dpkg returned an error code (1)" >&2; exit 100';
  const err = await runCommand(ctx, '/bin/sh', ['-c', script], { describe: 'apt-get install p' }).catch((e: unknown) => e);
  t.type(err, ProviderError);
  const msg = (err as Error).message;
  t.match(msg, /^apt-get install p exited with code 100: /);
  t.match(msg, /dpkg: error processing archive p\.deb/, 'the reason dpkg printed on stdout');
  t.match(msg, /pre-installation script subprocess returned error exit status 1/);
  t.match(msg, /E: Sub-process \/usr\/bin\/dpkg returned an error code \(1\)$/, 'and the last line of stderr, last');
  t.notMatch(msg, /Unpacking/, 'progress lines are left out');
});

t.test('stdout alone is the reason when stderr is empty', async (t) => {
  const ctx = osContext(createNodeHost({ root: '/' }), t.testdir({}));
  const err = await runCommand(ctx, '/bin/sh', ['-c', 'echo only-stdout; exit 2']).catch((e: unknown) => e);
  t.match((err as Error).message, /exited with code 2: only-stdout$/);
});

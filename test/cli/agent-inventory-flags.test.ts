import t from 'tap';
import { runStead } from '../helpers/cli.js';

t.test('stead agent: --libvirt-uri is checked, --no-inventory and --libvirt-uri are in the help', async (t) => {
  const dir = t.testdir();
  const bad = await runStead(['agent', '--server', 'http://127.0.0.1:9', '--data-dir', dir, '--libvirt-uri', 'not a uri']);
  t.equal(bad.code, 64);
  t.match(bad.stderr, /--libvirt-uri must be a libvirt URI/);
  const help = await runStead(['agent', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--no-inventory/);
  t.match(help.stdout, /--libvirt-uri URI/);
});

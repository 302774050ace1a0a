/** docs/systemd/stead-server.service: the settings the server relies on, and systemd-analyze verify. */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const unit = new URL('../../../docs/systemd/stead-server.service', import.meta.url).pathname;

t.test('stead-server.service has the settings the server relies on', async (t) => {
  const text = await fsp.readFile(unit, 'utf8');
  for (const line of ['Type=exec', 'KillSignal=SIGTERM', 'StateDirectory=stead-server', 'StateDirectoryMode=0700', 'UMask=0077', 'DynamicUser=yes', 'RestartPreventExitStatus=64']) {
    t.ok(text.split('\n').includes(line), line);
  }
  t.match(text, /server --port \$\{STEAD_PORT\} --host \$\{STEAD_LISTEN\} --data-dir \$\{STATE_DIRECTORY\}/);
});

const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'];
let found: string | undefined;
for (const p of analyze) if (await fsp.access(p).then(() => true, () => false)) found = p;
t.test('systemd-analyze verify accepts the unit', { skip: found ? false : 'systemd-analyze is not installed here, so the unit cannot be verified' }, async (t) => {
  const dir = t.testdir();
  const copy = (await fsp.readFile(unit, 'utf8')).replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `);
  const path = join(dir, 'stead-server.service');
  await fsp.writeFile(path, copy);
  const r = await run(found!, ['verify', path]).then(
    (o) => ({ code: 0, out: o.stdout + o.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
  t.equal(r.code, 0, r.out);
  t.notMatch(r.out, /stead-server\.service:\d+/, 'no warnings about the unit');
});

import t from 'tap';
import { parseGroup, parsePasswd, parseShadow, setPrimaryGid, supplementaryGroups } from '../../../agent/providers/shadow-files.js';

const passwd = '# comment\nroot:x:0:0:root:/root:/bin/bash\n\nalice:x:1000:100:Alice,,,:/home/alice:/bin/sh\n+nisuser::::::\nalice:x:9:9::/x:/y\n';
const group = 'root:x:0:\nusers:x:100:alice,bob\nstaff:x:50: alice \nempty:x:7:\n';

t.test('parsers', async (t) => {
  const users = parsePasswd(passwd, parseShadow('root:*:1::::::\nalice:$6$salt$hash:19000:0:99999:7:::\n'));
  t.same(users.map((u) => u.name), ['root', 'alice'], 'comments, blanks, NIS lines skipped; first entry wins');
  t.same(users[1], { name: 'alice', uid: 1000, gid: 100, comment: 'Alice,,,', home: '/home/alice', shell: '/bin/sh', password: '$6$salt$hash' });
  t.equal(parsePasswd('bob:x:1:1::/:/bin/sh\n')[0]?.password, undefined, 'no shadow line');
  const groups = parseGroup(group);
  t.same(groups.find((g) => g.name === 'users')?.members, ['alice', 'bob']);
  t.same(groups.find((g) => g.name === 'empty')?.members, []);
  t.same(supplementaryGroups({ users, groups }, 'alice'), ['staff', 'users']);
  t.throws(() => parsePasswd('bad:x:notanumber:0::/:/bin/sh\n'), { code: 'BAD_STATE' });
  t.throws(() => parsePasswd('short:x:1\n'), { code: 'BAD_STATE' });
  t.throws(() => parseGroup('g:x\n'), { code: 'BAD_STATE' });
});

t.test('setPrimaryGid changes one field of one line', async (t) => {
  t.equal(setPrimaryGid(passwd, 'alice', 2000), passwd.replace('alice:x:1000:100:', 'alice:x:1000:2000:'));
  t.throws(() => setPrimaryGid(passwd, 'nobody', 1), { code: 'NOT_FOUND' });
});

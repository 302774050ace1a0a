/**
 * Files steps (server/services/jobs/files-step.ts) on a real server: templates of the published
 * demo revision rendered in the compile worker with the host's variables and the job's on top,
 * content stored by sha256, template errors located to the line, secrets refused, the escape
 * corpus refused, data never re-templated, and every bound and path rule.
 */
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { ApiError } from '../../../../server/domain/errors.js';
import { prepareFiles, type FilesStepContext, type FilesStepSpec } from '../../../../server/services/jobs/files-step.js';
import type { BlobStore } from '../../../../server/store/types.js';
import { demoDir, readTree, startServer, type ServerFixture } from '../../../helpers/server-fixture.js';

const never = new AbortController().signal;
const root = t;
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

const extraTemplates: Record<string, string> = {
  'templates/job/port.conf.j2': 'host={{ inventory_hostname }}\nregion={{ region.name }}\nport={{ port }}\nnote={{ note }}\n',
  'templates/job/bad.j2': 'line one\nline two\n{{ no_such_variable.field }}\n',
  'templates/job/secret.j2': 'password={{ database.admin_password }}\n',
  'templates/job/escape.j2': '{{ range.constructor("return process.pid")() }}\n',
};

interface Fixture {
  fx: ServerFixture;
  blobs: BlobStore;
  ctx: (host: string, vars?: Record<string, unknown>) => FilesStepContext;
}

// One server with the demo revision published for the whole file (a publish validates every host).
let shared: Promise<Fixture> | undefined;
function fixture(t: Test): Promise<Fixture> {
  shared ??= (async () => {
    const fx = await startServer(t);
    const r = await fx.publish({ ...readTree(demoDir), ...extraTemplates });
    if (r.status !== 201) throw new Error(`publish: ${r.status} ${r.body.toString()}`);
    const blobs = await fx.server.store.blobs('jobs');
    return { fx, blobs, ctx: (host: string, vars: Record<string, unknown> = {}) => ({ host, vars, blobs, signal: never, templates: fx.server.services.jobTemplates }) };
  })();
  return shared;
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(e)}`);
  return e;
}

t.test('content, base64 and a template with the job variables on top, stored by sha256', async (t) => {
  const { blobs, ctx } = await fixture(root);
  const bin = Buffer.from([0, 1, 2, 255]);
  const step: FilesStepSpec = {
    files: [
      { path: '/etc/app/port.conf', template: 'job/port.conf.j2', mode: '0640', owner: 'root', group: 'adm' },
      { path: '/etc/app/motd', content: 'hello {{ inventory_hostname }}\n' },
      { path: '/usr/local/bin/blob', contentBase64: bin.toString('base64'), mode: '0755' },
      { path: '/etc/app/same', content: 'hello {{ inventory_hostname }}\n' },
    ],
  };
  const r = await prepareFiles(step, ctx('web-1', { port: 9000, note: '{{ 7*7 }}' }));
  const expected = 'host=web-1\nregion=sh\nport=9000\nnote={{ 7*7 }}\n';
  t.same(r.files, [
    { path: '/etc/app/port.conf', source: `sha256:${sha(expected)}`, mode: '0640', owner: 'root', group: 'adm' },
    // Inline content is not a template: it lands as written.
    { path: '/etc/app/motd', source: `sha256:${sha('hello {{ inventory_hostname }}\n')}` },
    { path: '/usr/local/bin/blob', source: `sha256:${sha(bin)}`, mode: '0755' },
    { path: '/etc/app/same', source: `sha256:${sha('hello {{ inventory_hostname }}\n')}` },
  ]);
  t.same(r.blobs, { [`sha256:${sha(expected)}`]: expected.length, [`sha256:${sha('hello {{ inventory_hostname }}\n')}`]: 31, [`sha256:${sha(bin)}`]: 4 });
  t.equal((await blobs.get(sha(expected)))?.toString(), expected, 'the rendered content is in the blob store');
  t.same(await blobs.get(sha(bin)), bin);
  // Another host gets its own variables; a job variable overrides the host's own (region.name).
  const other = await prepareFiles({ files: [step.files[0]!] }, ctx('web-3', { port: 1, note: 'n', region: { name: 'job-region' } }));
  const text = 'host=web-3\nregion=job-region\nport=1\nnote=n\n';
  t.equal(other.files[0]?.source, `sha256:${sha(text)}`);
  t.equal((await blobs.get(sha(text)))?.toString(), text);
});

t.test('a template that fails names the template and its line', async (t) => {
  const { ctx } = await fixture(root);
  const e = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'job/bad.j2' }] }, ctx('web-1')));
  t.equal(e.code, 'COMPILE_FAILED');
  t.match(e.message, /job\/bad\.j2:3: /);
  t.match(e.message, /no_such_variable/);
  const missing = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'job/none.j2' }] }, ctx('web-1')));
  t.equal(missing.code, 'COMPILE_FAILED');
  t.match(missing.message, /none\.j2/);
  // A job variable missing from the template's needs is the same error, located.
  const noPort = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'job/port.conf.j2' }] }, ctx('web-1')));
  t.match(noPort.message, /port\.conf\.j2:3: .*port/);
});

t.test('templates cannot escape into JS, and job files never carry a secret', async (t) => {
  const { ctx } = await fixture(root);
  const esc = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'job/escape.j2' }] }, ctx('web-1')));
  t.equal(esc.code, 'COMPILE_FAILED');
  t.notMatch(esc.message, new RegExp(`\\b${process.pid}\\b`));
  const secret = await refusal(prepareFiles({ files: [{ path: '/etc/db.pw', template: 'job/secret.j2' }] }, ctx('db-1')));
  t.equal(secret.code, 'BAD_REQUEST');
  t.match(secret.message, /uses a secret; job files cannot carry secrets/);
  // Forbidden launch variable keys are refused by the compiler.
  const polluted = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'job/port.conf.j2' }] }, ctx('web-1', JSON.parse('{"__proto__": {"x": 1}, "port": 1, "note": ""}') as Record<string, unknown>)));
  t.equal(polluted.code, 'COMPILE_FAILED');
  t.equal(({} as Record<string, unknown>)['x'], undefined);
});

t.test('a template needs a live revision, an inventory host, and a renderer', async (t) => {
  const { ctx } = await fixture(root);
  const unknown = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'job/port.conf.j2' }] }, ctx('not-in-inventory')));
  t.equal(unknown.code, 'NOT_FOUND');
  const { templates: _, ...noRenderer } = ctx('web-1');
  t.match((await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'a.j2' }] }, noRenderer))).message, /template files need the server's renderer/);
  const bare = await startServer(t);
  const blobs = await bare.server.store.blobs('jobs');
  const none = await refusal(prepareFiles({ files: [{ path: '/etc/x', template: 'a.j2' }] }, { host: 'web-1', vars: {}, blobs, signal: never, templates: bare.server.services.jobTemplates }));
  t.equal(none.code, 'NO_LIVE_REVISION');
  // Content-only steps need neither.
  t.equal((await prepareFiles({ files: [{ path: '/etc/x', content: 'x' }] }, { host: 'web-1', vars: {}, blobs, signal: never })).files.length, 1);
  t.same(await bare.server.services.jobTemplates.render('web-1', [], {}, never), []);
});

t.test('paths, fields and bounds are checked before anything is stored', async (t) => {
  const { ctx, blobs } = await fixture(root);
  const c = ctx('web-1');
  const before = await blobs.keys();
  const cases: [FilesStepSpec, RegExp, string?][] = [
    [{ files: [] }, /at least one file/],
    [{ files: Array.from({ length: 1001 }, (_, i) => ({ path: `/f${i}`, content: '' })) }, /at most 1000 files/],
    [{ files: [{ path: 'etc/x', content: '' }] }, /must be absolute/],
    [{ files: [{ path: '/etc/../shadow', content: '' }] }, /"\." or "\.\." segment/],
    [{ files: [{ path: '/etc/./x', content: '' }] }, /"\." or "\.\." segment/],
    [{ files: [{ path: '/etc//x', content: '' }] }, /empty segment/],
    [{ files: [{ path: '/etc/', content: '' }] }, /not a directory/],
    [{ files: [{ path: '/', content: '' }] }, /not a directory/],
    [{ files: [{ path: '/etc/x\n', content: '' }] }, /control character/],
    [{ files: [{ path: `/${'a'.repeat(4096)}`, content: '' }] }, /longer than 4096/],
    [{ files: [{ path: '', content: '' }] }, /a path is required/],
    [{ files: [{ path: '/a', content: '' }, { path: '/a', content: 'b' }] }, /appears twice/],
    [{ files: [{ path: '/a' }] }, /exactly one of content, contentBase64 or template/],
    [{ files: [{ path: '/a', content: 'x', template: 'y' }] }, /exactly one/],
    [{ files: [{ path: '/a', contentBase64: 'not base64!' }] }, /not valid base64/],
    [{ files: [{ path: '/a', contentBase64: 'QQ' }] }, /not valid base64/],
    [{ files: [{ path: '/a', content: '', mode: '644x' }] }, /mode must be an octal string/],
    [{ files: [{ path: '/a', content: '', owner: 'Root' }] }, /owner must be a POSIX user name/],
    [{ files: [{ path: '/a', content: '', group: 'a b' }] }, /group must be a POSIX group name/],
    [{ files: [{ path: '/a', content: 5 as unknown as string }] }, /content must be a string/],
    [{ files: [{ path: '/a', contentBase64: 5 as unknown as string }] }, /contentBase64 must be a string/],
    [{ files: [{ path: '/a', template: 5 as unknown as string }] }, /template must be a string/],
    [{ files: [{ path: '/a', template: '../secrets.j2' }] }, /relative to templates\//],
    [{ files: [{ path: '/a', template: '/etc/passwd' }] }, /relative to templates\//],
    [{ files: [{ path: '/a', template: '' }] }, /1-1024 characters/],
  ];
  for (const [step, re] of cases) {
    const e = await refusal(prepareFiles(step, c));
    t.equal(e.code, 'BAD_REQUEST', String(re));
    t.match(e.message, re);
  }
  t.same(await blobs.keys(), before, 'nothing stored');
  const small = { ...c, limits: { fileBytes: 10, stepBytes: 15 } };
  const big = await refusal(prepareFiles({ files: [{ path: '/a', content: 'x'.repeat(11) }] }, small));
  t.same([big.code, big.status], ['PAYLOAD_TOO_LARGE', 413]);
  t.match(big.message, /files\[0\] \(\/a\): the content is 11 bytes, more than the 10 bytes a job file may hold/);
  const b64 = await refusal(prepareFiles({ files: [{ path: '/a', contentBase64: Buffer.alloc(12).toString('base64') }] }, small));
  t.equal(b64.code, 'PAYLOAD_TOO_LARGE');
  const step = await refusal(prepareFiles({ files: [{ path: '/a', content: 'x'.repeat(8) }, { path: '/b', content: 'y'.repeat(8) }] }, small));
  t.match(step.message, /files\[1\] \(\/b\): the files of this step hold more than 15 bytes together/);
  const rendered = await refusal(prepareFiles({ files: [{ path: '/a', template: 'job/port.conf.j2' }] }, { ...ctx('web-1', { port: 1, note: 'x'.repeat(100) }), limits: { fileBytes: 20 } }));
  t.equal(rendered.code, 'PAYLOAD_TOO_LARGE');
  t.same(await blobs.keys(), before, 'still nothing stored');
  const ac = new AbortController();
  ac.abort(new Error('gone'));
  await t.rejects(prepareFiles({ files: [{ path: '/a', content: 'x' }] }, { ...c, signal: ac.signal }), /gone/);
});

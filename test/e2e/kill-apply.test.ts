/**
 * Kill safety: `stead apply` is killed with SIGKILL in the middle of writing 2,000 files of
 * 64 KiB. Every managed file must then be absent, the old content or the complete new content
 * (never partial), and a rerun must converge (detailed exit code 2, then 0).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStead, steadMain } from '../helpers/cli.js';

const N = 2000;
const DIRS = 20;
const SIZE = 64 * 1024;

function bytes(seed: string): Buffer {
  const out = Buffer.alloc(SIZE);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < SIZE; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('SIGKILL mid-apply leaves only old or complete new files; a rerun converges', { skip: existsSync(steadMain) ? false : 'dist/cli/main.js is missing: build first (npx tsc -p tsconfig.json)' }, async (t) => {
  const dir = t.testdir({ repo: { files: {} }, root: { data: {} } });
  const repo = join(dir, 'repo');
  const root = join(dir, 'root');
  const next = bytes('new');
  const old = bytes('old');
  writeFileSync(join(repo, 'files/new.bin'), next);
  const paths: string[] = [];
  const lines = ['resources:', '  - type: directory', '    path: /data'];
  for (let d = 0; d < DIRS; d++) {
    const dd = `/data/d${String(d).padStart(2, '0')}`;
    lines.push('  - type: directory', `    path: ${dd}`);
    mkdirSync(join(root, dd));
    for (let f = 0; f < N / DIRS; f++) {
      const p = `${dd}/f${String(f).padStart(4, '0')}`;
      paths.push(p);
      lines.push('  - type: file', `    path: ${p}`, '    source: new.bin', '    mode: "0644"');
      if (f % 2 === 1) writeFileSync(join(root, p), old);
    }
  }
  writeFileSync(join(repo, 'manifest.yaml'), `${lines.join('\n')}\n`);

  const child = spawn(process.execPath, [steadMain, 'apply', join(repo, 'manifest.yaml'), '--root', root, '--detailed-exitcodes'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  // kill as soon as a few files of the first directory carry the new content
  const first = join(root, 'data/d00');
  const newSha = sha(next);
  let killed = false;
  while (!killed) {
    const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5))]);
    if (done) break;
    let fresh = 0;
    for (const name of readdirSync(first)) {
      if (name.startsWith('.')) continue;
      try {
        if (sha(readFileSync(join(first, name))) === newSha) fresh++;
      } catch {
        // renamed away while we looked
      }
    }
    if (fresh >= 10) {
      child.kill('SIGKILL');
      killed = true;
    }
  }
  const status = await exited;
  t.ok(killed, `the apply was killed mid-run (exit ${JSON.stringify(status)}; ${stderr.slice(-500)})`);
  t.equal(status.signal, 'SIGKILL');

  const states = { absent: 0, old: 0, new: 0, partial: 0 };
  const oldSha = sha(old);
  for (const p of paths) {
    const abs = join(root, p);
    if (!existsSync(abs)) {
      states.absent++;
      continue;
    }
    const h = sha(readFileSync(abs));
    if (h === newSha) states.new++;
    else if (h === oldSha) states.old++;
    else states.partial++;
  }
  t.equal(states.partial, 0, `no managed file is partial (${JSON.stringify(states)})`);
  t.ok(states.new >= 10 && states.new < N, `the kill came mid-run: ${states.new} of ${N} files were new`);

  const rerun = await runStead(['apply', join(repo, 'manifest.yaml'), '--root', root, '--detailed-exitcodes'], { timeoutMs: 300_000 });
  t.equal(rerun.code, 2, `the rerun converges with changes: ${rerun.stderr.slice(-500)}`);
  for (const p of paths) {
    if (sha(readFileSync(join(root, p))) !== newSha) {
      t.fail(`${p} does not have the new content after the rerun`);
      break;
    }
  }
  const third = await runStead(['apply', join(repo, 'manifest.yaml'), '--root', root, '--detailed-exitcodes'], { timeoutMs: 300_000 });
  t.equal(third.code, 0, `a third run has nothing to do: ${third.stderr.slice(-500)}`);
});

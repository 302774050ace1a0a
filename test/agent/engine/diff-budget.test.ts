/**
 * A run's report carries at most DIFF_BUDGET characters of diffs, and one resource's diff at
 * most 64 KiB: a first apply of many files does not put every file's content in the report.
 */
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '../../../schemas/index.js';
import { reconcile, type EngineLogEntry } from '../../../agent/engine/reconcile.js';
import { DIFF_BUDGET } from '../../../agent/engine/resource-run.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { fsRegistry, makeCatalog } from '../../helpers/engine-fixtures.js';

t.test('diffs stop at the run budget and are cut at 64 KiB each; every change is still listed', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'root/d'), { recursive: true });
  const blobs = createMemoryBlobSource();
  const line = `${'x'.repeat(99)}\n`;
  const files = 30;
  const resources: Resource[] = [];
  for (let i = 0; i < files; i++) resources.push({ type: 'file', path: `/d/f${i}`, source: blobs.put(`${i}\n${line.repeat(400)}`), mode: '0644' }); // ~40 KB each
  resources.push({ type: 'file', path: '/d/big', source: blobs.put(line.repeat(2000)), mode: '0644' }); // ~200 KB
  const logs: EngineLogEntry[] = [];
  const report = await reconcile(makeCatalog(resources), { host: createNodeHost({ root: join(dir, 'root') }), blobs, stateDir: join(dir, 'state'), hostName: 'h', noop: false, signal: new AbortController().signal, registry: fsRegistry, concurrency: 1, log: (e) => logs.push(e) });
  t.equal(report.counts.changed, files + 1);
  const withDiff = report.resources.filter((s) => s.diff !== undefined);
  const total = withDiff.reduce((n, s) => n + s.diff!.length, 0);
  t.ok(withDiff.length > 0 && withDiff.length < files, `some diffs kept (${withDiff.length}), later ones omitted`);
  t.ok(total <= DIFF_BUDGET + 64 * 1024 + 64, `the report carries ${total} characters of diffs`);
  t.ok(report.resources.every((s) => s.changes.length > 0), 'every changed resource still lists its changes');
  t.equal(logs.filter((l) => /diffs omitted/.test(l.message)).length, 1, 'the omission is logged once');
  t.notOk(report.resources.find((s) => s.id === 'file:/d/big')?.diff, 'the last, big file came after the budget');
});

t.test('one diff longer than 64 KiB is cut with a marker', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'root'), { recursive: true });
  const blobs = createMemoryBlobSource();
  const report = await reconcile(makeCatalog([{ type: 'file', path: '/big', source: blobs.put(`${'y'.repeat(99)}\n`.repeat(2000)) }]), { host: createNodeHost({ root: join(dir, 'root') }), blobs, stateDir: join(dir, 'state'), hostName: 'h', noop: false, signal: new AbortController().signal, registry: fsRegistry });
  const diff = report.resources[0]!.diff!;
  t.ok(diff.length <= 64 * 1024 + 64, `${diff.length} characters`);
  t.match(diff, /\[stead: diff truncated\]$/);
});

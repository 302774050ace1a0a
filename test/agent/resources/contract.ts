/**
 * The shared contract suite every resource type passes (STYLE §8, Puppet's shared_examples),
 * run on real temporary roots:
 * - validate is pure and accepts the case;
 * - read and diff never change the host (the root and the state directory are snapshotted);
 * - a noop run changes nothing and reports would-change (or in-sync);
 * - an apply run converges: afterwards read + diff is [] and a second run is in-sync;
 * - every report validates against runReportSchema.
 */
import type { Test } from 'tap';
import { join } from 'node:path';
import type { Resource, ResourceType } from '../../../schemas/index.js';
import type { Host } from '../../../agent/host/host.js';
import { createNodeHost } from '../../../agent/host/node-host.js';
import type { BlobSource, Registry, ResourceContext, ResourceImpl } from '../../../agent/resources/resource.js';
import { createMemoryBlobSource } from '../../../agent/blobs/memory-blob-source.js';
import { reconcile } from '../../../agent/engine/reconcile.js';
import { isRunReport, makeCatalog, snapshot } from '../../helpers/engine-fixtures.js';

export interface ContractCase {
  /** Names the subtest. */
  readonly name: string;
  /** The desired resource, for a root directory (a real path). */
  desired(root: string): Resource;
  /** Prepares the host before the run (e.g. an old file to replace). */
  prepare?(root: string, host: Host): Promise<void> | void;
  /** Whether the first run must change something (default true). */
  readonly changes?: boolean;
  /** Blobs the resource needs. */
  readonly blobs?: BlobSource;
}

export interface ContractOptions {
  /** The implementation under test. */
  readonly impl: ResourceImpl<ResourceType, unknown>;
  /** A registry holding it (engine runs). */
  readonly registry: Registry;
  readonly cases: readonly ContractCase[];
  /** The Host for a root; default the real NodeHost confined under it. */
  makeHost?(root: string): Host;
  /** Directories outside the root that the runs may write (besides the state dir), snapshotted for the read-only checks. */
  watch?(root: string): string[];
}

/** Runs the contract suite as subtests of `t`. */
export async function resourceContract(t: Test, opts: ContractOptions): Promise<void> {
  for (const c of opts.cases) {
    await t.test(`contract: ${opts.impl.type}: ${c.name}`, async (t) => {
      const dir = t.testdir({ root: {}, state: {} });
      const root = join(dir, 'root');
      const stateDir = join(dir, 'state');
      const host = opts.makeHost ? opts.makeHost(root) : createNodeHost({ root });
      const blobs = c.blobs ?? createMemoryBlobSource();
      if (c.prepare) await c.prepare(root, host);
      const desired = c.desired(root);
      const watched = () => ({ root: snapshot(root), state: snapshot(stateDir), ...Object.fromEntries((opts.watch?.(root) ?? []).map((w) => [w, snapshot(w)])) });

      // validate: pure, and accepts the case
      const frozen = JSON.stringify(desired);
      t.same(opts.impl.validate(desired as never), [], 'validate accepts the case');
      t.same(opts.impl.validate(desired as never), [], 'validate gives the same answer twice');
      t.equal(JSON.stringify(desired), frozen, 'validate does not change the resource');

      // read + diff: no change on the host
      const before = watched();
      const ctx: ResourceContext = { host, blobs, signal: AbortSignal.timeout(60_000), stateDir, catalogPaths: new Set(), log: () => undefined };
      const actual = await opts.impl.read(desired as never, ctx);
      const changes = opts.impl.diff(desired as never, actual);
      t.same(opts.impl.diff(desired as never, actual), changes, 'diff is deterministic');
      t.same(watched(), before, 'read and diff change nothing');
      if (c.changes !== false) t.ok(changes.length > 0, 'the case starts out of sync');
      else t.same(changes, [], 'the case starts in sync');
      if (changes.some((ch) => ch.property === 'ensure')) t.equal(changes.length, 1, 'an ensure change comes alone');

      // noop run: nothing changes
      const catalog = makeCatalog([desired]);
      const run = (noop: boolean) => reconcile(catalog, { host, blobs, stateDir, hostName: 'contract', noop, signal: AbortSignal.timeout(120_000), registry: opts.registry });
      const noop = await run(true);
      t.same(isRunReport.check(noop), [], 'noop report validates');
      t.equal(noop.outcome, c.changes === false ? 'in-sync' : 'would-change', 'noop run reports the change');
      t.same(watched(), before, 'noop run changes nothing');

      // apply: converges, and a second run is in sync
      const applied = await run(false);
      t.same(isRunReport.check(applied), [], 'apply report validates');
      t.equal(applied.outcome, c.changes === false ? 'in-sync' : 'changed', `apply run ${c.changes === false ? 'is in sync' : 'changes'}: ${JSON.stringify(applied.resources[0]?.error ?? '')}`);
      const again = await opts.impl.read(desired as never, { ...ctx, signal: AbortSignal.timeout(60_000) });
      t.same(opts.impl.diff(desired as never, again), [], 'after apply, diff is empty');
      const second = await run(false);
      t.same(isRunReport.check(second), [], 'second report validates');
      t.equal(second.outcome, 'in-sync', 'second run is in sync');
    });
  }
}

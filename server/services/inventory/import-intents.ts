/**
 * Imports as staged intents (ADR 0018 §3): the whole diff of a valid file is written first (chunks,
 * then the intent naming them), then applied write by write — each write sets the final value,
 * so applying again after a crash is harmless — and the generation moves once, after the last
 * record. Lifecycle changes become events with ids derived from the import (recorded once).
 * `planImport` is the pure diff of a file against the store's records.
 */
import { randomUUID } from 'node:crypto';
import type { InventoryRecord } from '../../../schemas/api/inventory.js';
import type { Clock } from '../../domain/clock.js';
import type { Logger } from '../../log.js';
import { applyRow, canonical, changedFields, type ImportRow } from './import-format.js';
import type { ImportChunkDoc, ImportOp, InventoryCollections } from './inventory-model.js';

const CHUNK = 500;
const CHUNK_BYTES = 4 * 1024 * 1024;

export interface ImportPlan {
  readonly ops: ImportOp[];
  readonly added: string[];
  readonly changed: { hostname: string; fields: string[] }[];
  readonly removed: string[];
  readonly unchanged: number;
}

/** What the rows make of the current store records (merge: rows change what they give; replace: records become the rows, the others go). */
export function planImport(current: ReadonlyMap<string, InventoryRecord>, rows: readonly ImportRow[], mode: 'merge' | 'replace'): ImportPlan {
  const plan: ImportPlan = { ops: [], added: [], changed: [], removed: [], unchanged: 0 };
  let unchanged = 0;
  const named = new Set(rows.map((r) => r.record.hostname));
  for (const row of rows) {
    const name = row.record.hostname;
    const before = current.get(name);
    const after = applyRow(before, row, mode);
    const lc = (before?.lifecycle ?? null) !== (after.lifecycle ?? null) && after.lifecycle !== undefined ? { lc: { from: before?.lifecycle ?? null, to: after.lifecycle } } : {};
    if (!before) {
      plan.added.push(name);
      plan.ops.push({ h: name, r: JSON.stringify(after), ...lc });
      continue;
    }
    const fields = changedFields(canonical(before), after);
    if (fields.length === 0) unchanged++;
    else {
      plan.changed.push({ hostname: name, fields });
      plan.ops.push({ h: name, r: JSON.stringify(after), ...lc });
    }
  }
  if (mode === 'replace') {
    for (const name of [...current.keys()].sort()) {
      if (named.has(name)) continue;
      plan.removed.push(name);
      plan.ops.push({ h: name, r: null });
    }
  }
  return { ...plan, unchanged };
}

/** A lifecycle transition an import makes (recorded as an event once the records are in). */
export interface ImportTransition {
  readonly id: string;
  readonly host: string;
  readonly from: string | null;
  readonly to: string;
  readonly by: string;
  readonly at: number;
  readonly reason: string;
}

export interface ImportIntentDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The current generation. */
  generation(): Promise<number>;
  /** Moves the inventory generation by one (compare-and-swap); resolves the new one. */
  bump(): Promise<number>;
  /** Records a lifecycle event (idempotent per id; may launch the on-online plan). */
  recordEvent(t: ImportTransition): Promise<unknown>;
  /** Test seam: called before each record write of an apply (a throw simulates a crash). */
  readonly beforeWrite?: ((index: number) => void) | undefined;
}

export class ImportIntents {
  constructor(
    private readonly c: InventoryCollections,
    private readonly d: ImportIntentDeps,
  ) {}

  /** Writes the whole diff as an intent (chunks first: an intent always names complete chunks). Resolves its id. */
  async stage(plan: ImportPlan, by: string, mode: 'merge' | 'replace'): Promise<string> {
    const id = `imp_${randomUUID()}`;
    const chunks: ImportChunkDoc[] = [];
    // At most CHUNK ops and about CHUNK_BYTES of JSON a chunk (a MongoDB document holds 16 MiB).
    let batch: string[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      chunks.push({ _id: `${id}.${chunks.length}`, importId: id, seq: chunks.length, opsJson: `[${batch.join(',')}]` });
      batch = [];
      bytes = 0;
    };
    for (const op of plan.ops) {
      const json = JSON.stringify(op);
      if (batch.length >= CHUNK || (batch.length > 0 && bytes + json.length > CHUNK_BYTES)) flush();
      batch.push(json);
      bytes += json.length;
    }
    flush();
    // A crash before the intent leaves chunks no intent names: never applied.
    for (const c of chunks) await this.c.chunks.insertOne(c);
    await this.c.imports.insertOne({ _id: id, state: 'applying', by, mode, chunks: chunks.length, createdAt: this.d.clock.now(), baseGeneration: await this.d.generation(), counts: { added: plan.added.length, changed: plan.changed.length, removed: plan.removed.length } });
    return id;
  }

  /** Intents a stopped server left unfinished, oldest first. */
  async unfinished(): Promise<{ id: string; by: string }[]> {
    return (await this.c.imports.find({ state: 'applying' }, { sort: { createdAt: 1 } })).map((d) => ({ id: d._id, by: d.by }));
  }

  /** Applies an intent: every write, then the generation (once), the events, and the intent marked done. */
  async apply(id: string, by: string): Promise<number> {
    let index = 0;
    const transitions: ImportTransition[] = [];
    const intent = await this.c.imports.findOne({ _id: id });
    const now = intent?.createdAt ?? this.d.clock.now();
    // Event ids sort by time, then by the generation the import was staged at; the same on a resume.
    const prefix = `ev_${now.toString(36).padStart(9, '0')}_g${(intent?.baseGeneration ?? 0).toString(36).padStart(7, '0')}_`;
    for (const chunk of await this.c.chunks.find({ importId: id }, { sort: { seq: 1 } })) {
      for (const op of JSON.parse(chunk.opsJson) as ImportOp[]) {
        this.d.beforeWrite?.(index++);
        if (op.r === null) await this.c.hosts.deleteOne({ _id: op.h });
        else await this.c.hosts.updateOne({ _id: op.h }, { $set: { recordJson: op.r, updatedAt: now, updatedBy: by }, $inc: { version: 1 } }, { upsert: true });
        if (op.lc) transitions.push({ id: `${prefix}${op.h}`, host: op.h, from: op.lc.from, to: op.lc.to, by, at: now, reason: `import ${id}` });
      }
    }
    const generation = await this.d.bump();
    // Events after the generation moved (the hosts are in their new state when a plan launches),
    // before the intent is done (a crash in between records the rest at the next open).
    for (const t of transitions) await this.d.recordEvent(t);
    await this.c.imports.updateOne({ _id: id }, { $set: { state: 'done', finishedAt: this.d.clock.now() } });
    await this.c.chunks.deleteMany({ importId: id });
    this.d.log.info('inventory import applied', { import: id, by, generation });
    return generation;
  }
}

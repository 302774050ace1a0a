/**
 * Saved job plans (ADR 0014): a named, versioned list of steps with default targets and
 * variables. Stored in `job_plans` (the current version, unique by name) and
 * `job_plan_versions` (every version saved, for a run of an older one and for the history).
 * An update names the version it was based on (compare-and-swap: 409 when another edit came
 * first). The job service launches a plan from toLaunchBody(); this service runs nothing.
 */
import { randomBytes } from 'node:crypto';
import type { PlanStep, PlanWrite } from '../../../schemas/api/plans.js';
import type { Clock } from '../../domain/clock.js';
import { actorName, byFields, type ActorLike, type AuditLog } from '../audit-log.js';
import { ApiError } from '../../domain/errors.js';
import { isDuplicateKey, type Collection, type DocumentStore } from '../../store/types.js';
import { badJobPath } from './files-step.js';

export interface PlanRecord {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly targets: string;
  readonly vars?: Record<string, string>;
  readonly steps: PlanStep[];
  readonly version: number;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** What POST /api/v1/jobs takes (ADR 0014 launch body), built from a plan. */
export interface PlanLaunchBody {
  name: string;
  targets: string;
  vars?: Record<string, string>;
  dryRun?: boolean;
  steps: PlanStep[];
}

/** What a run may change: the targets, variables on top of the plan's, dry run, the job's name, an older version. */
export interface PlanRunOverrides {
  readonly targets?: string;
  readonly vars?: Record<string, string>;
  readonly dryRun?: boolean;
  readonly name?: string;
  readonly version?: number;
}

type PlanDoc = Omit<PlanRecord, 'id'> & { _id: string };
type VersionDoc = Omit<PlanRecord, 'id'> & { _id: string; planId: string };

/** Plans kept at most (creation beyond: 409). */
export const maxPlans = 10_000;

const idRe = /^pl_[A-Za-z0-9_-]{1,64}$/;

/** Problems the schema cannot see; [] when the plan is sound. */
export function planProblems(steps: readonly PlanStep[]): string[] {
  const out: string[] = [];
  steps.forEach((s, i) => {
    const at = `steps[${i}]`;
    if (typeof s.targets === 'object' && s.targets.failedOf >= i) out.push(`${at}: targets.failedOf must name an earlier step (${i === 0 ? 'the first step has none' : `0-${i - 1}`})`);
    switch (s.kind) {
      case 'script':
        if ((s.script.source === undefined) === (s.script.scriptId === undefined)) out.push(`${at}: give exactly one of script.source or script.scriptId`);
        if (s.script.version !== undefined && s.script.scriptId === undefined) out.push(`${at}: script.version goes with script.scriptId`);
        break;
      case 'files': {
        const seen = new Set<string>();
        s.files.forEach((f, j) => {
          const bad = badJobPath(f.path);
          if (bad) out.push(`${at}.files[${j}]: ${bad}`);
          if (seen.has(f.path)) out.push(`${at}.files[${j}]: ${f.path} appears twice`);
          seen.add(f.path);
          if ([f.content, f.contentBase64, f.template].filter((v) => v !== undefined).length !== 1) out.push(`${at}.files[${j}]: give exactly one of content, contentBase64 or template`);
        });
        break;
      }
      case 'probe':
        if (!s.probe.tcp && !s.probe.http) out.push(`${at}: a probe needs tcp or http`);
        break;
      default:
        break;
    }
  });
  return out;
}

function toRecord(d: PlanDoc | VersionDoc, id: string): PlanRecord {
  return {
    id,
    name: d.name,
    ...(d.description !== undefined ? { description: d.description } : {}),
    targets: d.targets,
    ...(d.vars !== undefined ? { vars: d.vars } : {}),
    steps: d.steps,
    version: d.version,
    createdAt: d.createdAt,
    createdBy: d.createdBy,
    updatedAt: d.updatedAt,
    updatedBy: d.updatedBy,
  };
}

/** What the audit log keeps of a plan version. */
function planSummary(d: PlanDoc): unknown {
  return { name: d.name, version: d.version, targets: d.targets, steps: d.steps, ...(d.vars !== undefined ? { vars: Object.keys(d.vars) } : {}) };
}

export class PlanService {
  private constructor(
    private readonly plans: Collection<PlanDoc>,
    private readonly versions: Collection<VersionDoc>,
    private readonly clock: Clock,
  ) {}

  #audit: AuditLog | undefined;

  /** Plan changes are recorded in the audit log from now on. */
  setAuditLog(log: AuditLog): void {
    this.#audit = log;
  }

  static async open(store: DocumentStore, clock: Clock): Promise<PlanService> {
    const plans = await store.collection<PlanDoc>('job_plans', [{ name: 'by_name', fields: { name: 1 }, unique: true }]);
    const versions = await store.collection<VersionDoc>('job_plan_versions', [{ name: 'by_plan', fields: { planId: 1, version: 1 } }]);
    return new PlanService(plans, versions, clock);
  }

  #check(input: PlanWrite): void {
    const problems = planProblems(input.steps as PlanStep[]);
    if (problems.length > 0) throw new ApiError('BAD_REQUEST', `the plan is not valid: ${problems.slice(0, 5).join('; ')}`, { problems });
  }

  #fields(input: PlanWrite): Pick<PlanDoc, 'name' | 'targets' | 'steps'> & { description?: string; vars?: Record<string, string> } {
    return {
      name: input.name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      targets: input.targets,
      ...(input.vars !== undefined ? { vars: input.vars as Record<string, string> } : {}),
      steps: input.steps as PlanStep[],
    };
  }

  #nameTaken(name: string): ApiError {
    return new ApiError('CONFLICT', `a plan named ${JSON.stringify(name)} exists already`);
  }

  async #saveVersion(id: string, doc: PlanDoc): Promise<void> {
    const { _id, ...rest } = doc;
    await this.versions.replaceOne({ _id: `${id}@${doc.version}` }, { ...rest, _id: `${id}@${doc.version}`, planId: id }, { upsert: true });
  }

  /** Creates a plan (version 1). 409 when the name is taken or the store holds maxPlans. */
  async create(input: PlanWrite, by: ActorLike): Promise<PlanRecord> {
    const operator = actorName(by);
    this.#check(input);
    if ((await this.plans.count({})) >= maxPlans) throw new ApiError('CONFLICT', `there are ${maxPlans} plans already; delete some first`);
    const now = this.clock.now();
    const id = `pl_${randomBytes(12).toString('base64url')}`;
    const doc: PlanDoc = { _id: id, ...this.#fields(input), version: 1, createdAt: now, createdBy: operator, updatedAt: now, updatedBy: operator };
    try {
      await this.plans.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw this.#nameTaken(input.name);
      throw err;
    }
    await this.#saveVersion(id, doc);
    await this.#audit?.record({ ...byFields(by), action: 'plan.create', target: `plan:${id}`, after: planSummary(doc) });
    return toRecord(doc, id);
  }

  /**
   * Saves a new version of plan `id`. With `input.version`, only when that is still the current
   * version (409 otherwise). 404 for an unknown plan, 409 for a name another plan has.
   */
  async update(id: string, input: PlanWrite, by: ActorLike): Promise<PlanRecord> {
    const operator = actorName(by);
    this.#check(input);
    const current = await this.#doc(id);
    if (input.version !== undefined && input.version !== current.version) {
      throw new ApiError('CONFLICT', `plan ${id} is at version ${current.version}, not ${input.version}: reload it and edit again`);
    }
    const next: PlanDoc = { ...this.#fields(input), _id: id, version: current.version + 1, createdAt: current.createdAt, createdBy: current.createdBy, updatedAt: this.clock.now(), updatedBy: operator };
    const { _id, ...set } = next;
    const unset: Record<string, true> = {};
    if (next.description === undefined) unset['description'] = true;
    if (next.vars === undefined) unset['vars'] = true;
    let saved: PlanDoc | null;
    try {
      saved = await this.plans.findOneAndUpdate({ _id: id, version: current.version }, { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) }, { returnDocument: 'after' });
    } catch (err) {
      if (isDuplicateKey(err)) throw this.#nameTaken(input.name);
      throw err;
    }
    if (!saved) throw new ApiError('CONFLICT', `plan ${id} was changed by someone else at the same time: reload it and edit again`);
    await this.#saveVersion(id, saved);
    await this.#audit?.record({ ...byFields(by), action: 'plan.update', target: `plan:${id}`, before: planSummary(current), after: planSummary(saved) });
    return toRecord(saved, id);
  }

  async #doc(id: string): Promise<PlanDoc> {
    const d = idRe.test(id) ? await this.plans.findOne({ _id: id }) : null;
    if (!d) throw new ApiError('NOT_FOUND', `no plan ${JSON.stringify(id.slice(0, 80))}`);
    return d;
  }

  /** The plan (its current version, or `version`); undefined when unknown. */
  async get(id: string, version?: number): Promise<PlanRecord | undefined> {
    if (!idRe.test(id)) return undefined;
    if (version !== undefined) {
      const v = await this.versions.findOne({ _id: `${id}@${version}` });
      return v ? toRecord(v, id) : undefined;
    }
    const d = await this.plans.findOne({ _id: id });
    return d ? toRecord(d, id) : undefined;
  }

  /** The id of the plan with this id or, failing that, this name (the CLI's `stead plan run NAME`). */
  async resolveId(idOrName: string): Promise<string | undefined> {
    if (idRe.test(idOrName) && (await this.plans.findOne({ _id: idOrName }, { projection: { _id: 1 } }))) return idOrName;
    if (idOrName.length > 100) return undefined;
    const d = await this.plans.findOne({ name: idOrName }, { projection: { _id: 1 } });
    return d?._id;
  }

  /** Every plan, by name (at most `limit`). */
  async list(limit = 1000): Promise<PlanRecord[]> {
    return (await this.plans.find({}, { sort: { name: 1 }, limit })).map((d) => toRecord(d, d._id));
  }

  /** Deletes the plan and its versions; false when it did not exist. */
  async delete(id: string, by?: ActorLike): Promise<boolean> {
    if (!idRe.test(id)) return false;
    const before = await this.plans.findOne({ _id: id });
    const n = await this.plans.deleteOne({ _id: id });
    await this.versions.deleteMany({ planId: id });
    if (n === 1 && before) await this.#audit?.record({ ...byFields(by), action: 'plan.delete', target: `plan:${id}`, before: planSummary(before) });
    return n === 1;
  }

  /**
   * The launch body (ADR 0014) of a run of plan `id`: its steps, its targets unless overridden,
   * its variables with `overrides.vars` on top. 404 for an unknown plan or version.
   */
  async toLaunchBody(id: string, overrides: PlanRunOverrides = {}): Promise<PlanLaunchBody> {
    const plan = await this.get(id, overrides.version);
    if (!plan) throw new ApiError('NOT_FOUND', overrides.version !== undefined ? `plan ${JSON.stringify(id.slice(0, 80))} has no version ${overrides.version}` : `no plan ${JSON.stringify(id.slice(0, 80))}`);
    const vars = plan.vars || overrides.vars ? { ...plan.vars, ...overrides.vars } : undefined;
    return {
      name: overrides.name ?? plan.name,
      targets: overrides.targets ?? plan.targets,
      ...(vars ? { vars } : {}),
      ...(overrides.dryRun !== undefined ? { dryRun: overrides.dryRun } : {}),
      steps: plan.steps,
    };
  }
}

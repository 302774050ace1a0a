/**
 * Execution accounts (issue 9): the managed list of run-as users a job may choose. An account
 * is an alias (`name`, what a job names) for a POSIX user on the hosts (`user`). `root` is
 * seeded at start and cannot be deleted. Whether an operator may run as an account on a target
 * is the job service's decision; this service only keeps the list.
 */
import type { Clock } from '../../domain/clock.js';
import { actorName, byFields, type ActorLike, type AuditLog } from '../audit-log.js';
import { ApiError } from '../../domain/errors.js';
import { isDuplicateKey, type Collection, type DocumentStore } from '../../store/types.js';

/** Most accounts in the list. */
export const MAX_ACCOUNTS = 1000;

const aliasPattern = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** schemas/defs.ts accountName. */
const posixUserPattern = /^[a-z_][a-z0-9_.-]{0,31}\$?$/;

type AccountDoc = { _id: string; user: string; description?: string; builtin: boolean; createdAt: number; createdBy: string };

export interface ExecAccount {
  name: string;
  user: string;
  description?: string;
}

/** An account with its bookkeeping, as the API lists it. */
export interface ExecAccountRecord extends ExecAccount {
  builtin: boolean;
  createdAt: number;
}

function view(d: AccountDoc): ExecAccountRecord {
  return { name: d._id, user: d.user, ...(d.description !== undefined ? { description: d.description } : {}), builtin: d.builtin, createdAt: d.createdAt };
}

export class AccountService {
  private constructor(
    private readonly accounts: Collection<AccountDoc>,
    private readonly clock: Clock,
  ) {}

  #audit: AuditLog | undefined;

  /** Account changes are recorded in the audit log from now on. */
  setAuditLog(log: AuditLog): void {
    this.#audit = log;
  }

  /** Opens the collection and seeds the built-in `root` account (idempotent). */
  static async open(store: DocumentStore, clock: Clock): Promise<AccountService> {
    const accounts = await store.collection<AccountDoc>('exec_accounts');
    await accounts.updateOne({ _id: 'root' }, { $setOnInsert: { user: 'root', description: 'The superuser (built in).', builtin: true, createdAt: clock.now(), createdBy: 'stead' } }, { upsert: true });
    return new AccountService(accounts, clock);
  }

  /** Every account, by name. */
  async list(): Promise<ExecAccountRecord[]> {
    return (await this.accounts.find({}, { sort: { _id: 1 }, limit: MAX_ACCOUNTS + 10 })).map(view);
  }

  /** The account named `name`, or null (also for a malformed name). */
  async get(name: string): Promise<{ name: string; user: string; description?: string } | null> {
    if (!aliasPattern.test(name)) return null;
    const d = await this.accounts.findOne({ _id: name });
    return d ? { name: d._id, user: d.user, ...(d.description !== undefined ? { description: d.description } : {}) } : null;
  }

  /** Adds an account. BAD_REQUEST for a malformed name or user; CONFLICT when the name is taken or the list is full. */
  async create(input: ExecAccount, actor: ActorLike): Promise<ExecAccountRecord> {
    const by = actorName(actor);
    if (!aliasPattern.test(input.name)) throw new ApiError('BAD_REQUEST', 'an account name is 1-64 of lowercase letters, digits, "_", "." and "-", starting with a letter or digit');
    if (!posixUserPattern.test(input.user)) throw new ApiError('BAD_REQUEST', `user ${JSON.stringify(input.user.slice(0, 40))} is not a POSIX account name`);
    if (input.description !== undefined && (input.description.length > 500 || /[\u0000-\u001f\u007f]/.test(input.description))) throw new ApiError('BAD_REQUEST', 'an account description is one line of at most 500 characters');
    if ((await this.accounts.count({})) >= MAX_ACCOUNTS) throw new ApiError('CONFLICT', `there are ${MAX_ACCOUNTS} accounts, the limit`);
    const doc: AccountDoc = { _id: input.name, user: input.user, ...(input.description !== undefined ? { description: input.description } : {}), builtin: false, createdAt: this.clock.now(), createdBy: by };
    try {
      await this.accounts.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new ApiError('CONFLICT', `an account named ${input.name} exists`);
      throw err;
    }
    await this.#audit?.record({ ...byFields(actor), action: 'account.create', target: `account:${input.name}`, after: { user: input.user, ...(input.description !== undefined ? { description: input.description } : {}) } });
    return view(doc);
  }

  /** Removes an account. NOT_FOUND; CONFLICT for the built-in root account. */
  async delete(name: string, by?: ActorLike): Promise<void> {
    if (!aliasPattern.test(name)) throw new ApiError('NOT_FOUND', 'no such account');
    const d = await this.accounts.findOne({ _id: name });
    if (!d) throw new ApiError('NOT_FOUND', `no account ${name}`);
    if (d.builtin) throw new ApiError('CONFLICT', `${name} is built in and cannot be deleted`);
    if ((await this.accounts.deleteOne({ _id: name, builtin: false })) === 1) await this.#audit?.record({ ...byFields(by), action: 'account.delete', target: `account:${name}`, before: { user: d.user, ...(d.description !== undefined ? { description: d.description } : {}) } });
  }
}

/**
 * `stead backup list|show|restore`: the engine's content-addressed backups of replaced file
 * content (agent/resources/file-backup.ts). A backup is named by its sha256 or any unique
 * prefix of at least 6 hex digits.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listBackups, readBackup, restoreBackup, type BackupEntry } from '../../agent/resources/file-backup.js';
import { createNodeHost } from '../../agent/host/node-host.js';
import { exitCodes, UsageError, writeLine, type CliIo } from '../io.js';

export const backupUsage = `Usage: stead backup <list|show|restore> [options]

List, show and restore file contents the engine backed up before it replaced them.

  stead backup list [--path PATH]          Backups, newest first
  stead backup show SHA                    Print a backup's content
  stead backup restore SHA [--path PATH]   Write a backup back (to the path it came from,
                                           or PATH); the current content is backed up first

Options:
  --root DIR        Managed paths live under DIR (as given to stead apply --root)
  --state-dir DIR   Where backups are kept (default: <root>/var/lib/stead with --root,
                    else /var/lib/stead)
  --json            list: print JSON
  -h, --help        Show this help

SHA is the full sha256 or a unique prefix of at least 6 hex digits.

Exit codes: 0 done; 1 no state directory, or no (or more than one) backup matches SHA;
64 usage error.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      root: { type: 'string' },
      'state-dir': { type: 'string' },
      path: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    writeLine(io.stdout, backupUsage);
    return exitCodes.ok;
  }
  const [action, ...rest] = positionals;
  const root = values.root !== undefined ? resolve(io.cwd, values.root) : '/';
  const stateDir = values['state-dir'] !== undefined ? resolve(io.cwd, values['state-dir']) : join(root, 'var/lib/stead');
  if (!(await stat(stateDir).then((s) => s.isDirectory(), () => false))) {
    writeLine(io.stderr, `stead backup: no state directory at ${stateDir} (nothing was ever applied there; use --state-dir or --root)`);
    return exitCodes.failed;
  }
  const pathFilter = values.path !== undefined ? { path: values.path } : {};

  switch (action) {
    case 'list': {
      if (rest.length > 0) throw new UsageError('list takes no arguments');
      const entries = await listBackups(stateDir, pathFilter);
      if (values.json) writeLine(io.stdout, JSON.stringify(entries, null, 2));
      else if (entries.length === 0) writeLine(io.stdout, 'No backups.');
      else for (const e of entries) writeLine(io.stdout, `${e.sha256.slice(0, 12)}  ${e.at}  ${String(e.size).padStart(9)}  ${e.path}`);
      return exitCodes.ok;
    }
    case 'show': {
      const entry = await findOne(stateDir, rest, pathFilter);
      if (typeof entry === 'string') return fail(io, entry);
      io.stdout.write(await readBackup(stateDir, entry.sha256));
      return exitCodes.ok;
    }
    case 'restore': {
      const entry = await findOne(stateDir, rest, {});
      if (typeof entry === 'string') return fail(io, entry);
      const path = values.path ?? entry.path;
      await restoreBackup({ stateDir, host: createNodeHost({ root }), sha256: entry.sha256, path });
      writeLine(io.stdout, `Restored ${path} from backup ${entry.sha256.slice(0, 12)} (${entry.at}); the content it replaced is backed up too.`);
      return exitCodes.ok;
    }
    case undefined:
      throw new UsageError('an action is required: list, show or restore');
    default:
      throw new UsageError(`unknown action "${action}": list, show or restore`);
  }
}

/** The newest backup whose sha256 starts with the one argument given; an error message otherwise. */
async function findOne(stateDir: string, rest: readonly string[], filter: { path?: string }): Promise<BackupEntry | string> {
  if (rest.length !== 1) throw new UsageError('one backup SHA is required');
  const prefix = rest[0]!.toLowerCase().replace(/^sha256:/, '');
  if (!/^[0-9a-f]{6,64}$/.test(prefix)) throw new UsageError(`"${rest[0]!}" is not a sha256 or a prefix of at least 6 hex digits`);
  const matches = (await listBackups(stateDir, filter)).filter((e) => e.sha256.startsWith(prefix));
  const distinct = new Set(matches.map((e) => e.sha256));
  if (distinct.size === 0) return `no backup ${prefix}`;
  if (distinct.size > 1) return `${prefix} is ambiguous: ${[...distinct].map((s) => s.slice(0, 12)).join(', ')}`;
  return matches[0]!;
}

function fail(io: CliIo, message: string): number {
  writeLine(io.stderr, `stead backup: ${message}`);
  return exitCodes.failed;
}

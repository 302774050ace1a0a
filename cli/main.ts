#!/usr/bin/env node
/**
 * The `stead` command: the composition root. `stead <command> …` lazily imports
 * cli/commands/<command>.js, whose `run(args, io)` returns the exit code, so an agent process
 * never loads the compiler, nunjucks or the store (docs/adr/0001).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { useFrugalHeap } from '../agent/daemon/heap-tuning.js';
import { processIo, UsageError, writeLine, exitCodes, type CliIo } from './io.js';
import { unknownCommand } from './unknown-command.js';

/** Every subcommand, with the line `stead --help` shows. The name is also the module name. */
export const commands = {
  apply: 'Enforce a manifest on this host, without a server (like puppet apply)',
  render: 'Render a Jinja2 template with variables',
  compile: 'Compile the catalog of a host from a manifest repository',
  validate: 'Check a manifest repository and report every mistake',
  vars: 'Show and explain the variables of a host',
  server: 'Run the manifest server',
  agent: 'Run the agent: pull the catalog, converge, report',
  demo: 'Run a local demonstration',
  backup: 'List, show and restore file contents the engine backed up',
  job: 'Run a script on hosts, follow it, show, redo and cancel jobs',
  schedule: 'Create, list and delete scheduled jobs',
  script: 'Add, list and show scripts of the server\'s library',
  plan: 'Show what a manifest directory would change on the fleet; launch a saved job plan (run)',
  publish: 'Publish a manifest directory as a revision, at once or as a canary rollout',
  rollout: 'List, show, continue, pause, abort and roll back rollouts',
  revisions: 'List the manifest history, diff two revisions, activate (roll back to) one',
  manifests: 'Read and edit the server\'s manifest files: check, preview, drafts, plan, commit, publish',
  hosts: 'The inventory: import and export records, list with filters, show, set fields and lifecycle',
  packages: 'List tracked packages per host and their versions; track, untrack, upgrade to approved',
  services: 'List tracked services per host with drift; track, untrack',
  service: 'Start, stop or restart a tracked service on hosts (a job, or a rollout in batches)',
  collectors: 'List, set and remove collector scripts agents run to find virtual resources',
  login: 'Log in with a user name and password; saves a session token for the other commands',
  logout: 'End the saved login session and delete its token file',
  users: 'List, add, change and delete console and CLI users (admins)',
  audit: 'The audit log: who changed what, when, from which address (filters, --json)',
  dashboard: 'Fleet compliance now, failing hosts, running jobs and rollouts, most drifted resources',
  blobs: 'Blob storage per bucket and the blob retention in force',
  drift: 'Drift history of a host or a resource (detected, repaired, failed); the most drifted resources',
} as const;
export type CommandName = keyof typeof commands;

/**
 * Commands whose process sizes V8's heap for a long life (agent/daemon/heap-tuning.ts): the agent
 * daemon. A one-shot `stead apply` keeps V8's defaults: its compile allocates fast and briefly,
 * and a small young generation made it collect garbage ~10x as often (docs/adr/0013).
 */
export const heapFrugalCommands: ReadonlySet<string> = new Set<CommandName>(['agent']);

interface CommandModule {
  run(args: string[], io: CliIo): Promise<number>;
}

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'Usage: stead <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    '',
    'Options:',
    '  -h, --help     Show this help (stead <command> --help for a command)',
    '  -V, --version  Show the version',
    '',
    'Documentation: docs/cli.md',
  ].join('\n');
}

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Runs `stead` with argv (without node and the script); returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    writeLine(first === undefined ? io.stderr : io.stdout, usage());
    return first === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (first === '-V' || first === '--version') {
    writeLine(io.stdout, `stead ${version()}`);
    return exitCodes.ok;
  }
  let name = first;
  let args = rest;
  if (first === 'help') {
    if (rest[0] === undefined) {
      writeLine(io.stdout, usage());
      return exitCodes.ok;
    }
    name = rest[0];
    args = ['--help'];
  }
  if (!Object.hasOwn(commands, name)) {
    writeLine(io.stderr, await unknownCommand(name, Object.keys(commands)));
    writeLine(io.stderr, usage());
    return exitCodes.usage;
  }
  let mod: CommandModule;
  try {
    mod = (await import(`./commands/${name}.js`)) as CommandModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`commands/${name}.js`)) {
      writeLine(io.stderr, `stead: the "${name}" command is not available in this build`);
      return exitCodes.failed;
    }
    throw err;
  }
  try {
    return await mod.run([...args], io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      writeLine(io.stderr, `stead ${name}: ${(err as Error).message}`);
      writeLine(io.stderr, `Run "stead ${name} --help" for usage.`);
      return exitCodes.usage;
    }
    throw err;
  }
}

/** Entry point when run as a program (not when imported by a test). */
async function entry(): Promise<void> {
  const io = processIo();
  // Before the command's modules load: V8 grows the young generation from the first allocations.
  if (heapFrugalCommands.has(process.argv[2] ?? '')) useFrugalHeap();
  // `stead apply … | head`: a closed pipe ends the output, not the program with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  try {
    process.exitCode = await main(process.argv.slice(2), io);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    writeLine(io.stderr, `stead: ${e.code !== undefined ? `${String(e.code)}: ` : ''}${e.message ?? String(err)}`);
    if (io.env['STEAD_DEBUG']) writeLine(io.stderr, e.stack ?? '');
    process.exitCode = exitCodes.failed;
  }
}

const invokedAs = process.argv[1];
// npm links bins through symlinks (node_modules/.bin/stead): compare real files.
if (invokedAs !== undefined && import.meta.url === pathToFileURL(realpathOrSelf(invokedAs)).href) void entry();

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

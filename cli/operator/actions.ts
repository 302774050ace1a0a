/**
 * The shape every operator command shares (`stead job|schedule|script ACTION …`): the options
 * every action takes, and the dispatch from the action word to its function, with the usage on
 * no action or --help and a usage error naming the actions for anything else.
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { connectionOptions } from './connection.js';
import { operatorExitCodes } from './errors.js';

/** Options of every operator action: the connection, --json and --help. */
export const commonOptions = { ...connectionOptions, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export type Action = (args: string[], io: CliIo) => Promise<number>;

/** Runs `args[0]` of `actions`; `usage` on stderr (exit 64) without an action, on stdout with --help. */
export async function runAction(args: string[], io: CliIo, usage: string, actions: Readonly<Record<string, Action>>): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '-h' || action === '--help') {
    writeLine(action === undefined ? io.stderr : io.stdout, usage);
    return action === undefined ? operatorExitCodes.usage : operatorExitCodes.ok;
  }
  const fn = Object.hasOwn(actions, action) ? actions[action] : undefined;
  if (!fn) {
    const names = Object.keys(actions);
    throw new UsageError(`unknown action ${JSON.stringify(action.slice(0, 50))}: ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
  }
  return fn(rest, io);
}

/**
 * Running one operator action: resolve the connection (a usage error when the server or the
 * token is missing), print the connection's warnings, open the client, run the action, and turn
 * an OperatorError into its message and exit code. The client is closed in every case.
 */
import type { CliIo } from '../io.js';
import { writeLine } from '../io.js';
import { OperatorClient } from './client.js';
import { resolveConnection, type ConnectionValues } from './connection.js';
import { OperatorError, reportFailure } from './errors.js';

export interface Session {
  readonly io: CliIo;
  readonly client: OperatorClient;
  readonly json: boolean;
  /** "job run": the command words, for messages. */
  readonly command: string;
}

export async function withSession(io: CliIo, command: string, values: ConnectionValues & { json?: boolean | undefined }, action: (s: Session) => Promise<number>): Promise<number> {
  const json = values.json === true;
  const conn = await resolveConnection(values, io);
  for (const w of conn.warnings) writeLine(io.stderr, `stead ${command}: warning: ${w}`);
  const client = new OperatorClient(conn);
  try {
    return await action({ io, client, json, command });
  } catch (err) {
    if (err instanceof OperatorError) return reportFailure(io, command, err, json);
    throw err;
  } finally {
    client.close();
  }
}

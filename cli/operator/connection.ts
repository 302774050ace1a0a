/**
 * Where an operator command connects and with what: the server URL (--server > STEAD_SERVER),
 * the bearer token (--token-file > STEAD_TOKEN_FILE > STEAD_TOKEN), a private CA for https://
 * (--ca > STEAD_CA_FILE; --ca-file is the same option) and the per-request timeout
 * (--request-timeout, seconds). Every operator command shares these options.
 */
import { constants, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, type CliIo } from '../io.js';

/** The parseArgs options every operator command accepts besides its own. */
export const connectionOptions = {
  server: { type: 'string' },
  'token-file': { type: 'string' },
  ca: { type: 'string' },
  'ca-file': { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

/** The usage lines for connectionOptions (appended to each command's --help). */
export const connectionUsage = `Connection:
  --server URL             the Stead server; default $STEAD_SERVER
  --token-file FILE        file holding an operator token; default $STEAD_TOKEN_FILE, else the
                           token itself in $STEAD_TOKEN, else the file \`stead login\` wrote
                           (~/.config/stead/token; a file others can read is refused)
  --ca FILE                PEM CA bundle to trust for an https:// server (also --ca-file);
                           default $STEAD_CA_FILE
  --request-timeout S      give up on a request the server does not answer within S seconds;
                           default 30`;

export interface ConnectionValues {
  readonly server?: string | undefined;
  readonly 'token-file'?: string | undefined;
  readonly ca?: string | undefined;
  readonly 'ca-file'?: string | undefined;
  readonly 'request-timeout'?: string | undefined;
}

export interface Connection {
  readonly server: URL;
  readonly token: string;
  /** Where the token came from, for messages: "--token-file /x", "STEAD_TOKEN". */
  readonly tokenSource: string;
  readonly ca: Buffer | undefined;
  readonly timeoutMs: number;
  /** Things worth saying on stderr (a group-readable token file, a token sent in clear). */
  readonly warnings: readonly string[];
}

/** The characters the server accepts in a bearer token (server/api/auth.ts). */
const TOKEN = /^[A-Za-z0-9_\-.~+/]+=*$/;
const MAX_TOKEN_FILE = 4096;

export async function resolveConnection(values: ConnectionValues, io: CliIo): Promise<Connection> {
  const warnings: string[] = [];
  const server = serverUrl(values.server, io.env);
  if (server.protocol === 'http:' && !isLoopback(server.hostname)) {
    warnings.push(`the token goes in clear text to ${server.origin}: use https:// outside a trusted network`);
  }
  const { token, source } = await resolveToken(values['token-file'], io, warnings);
  if (values.ca !== undefined && values['ca-file'] !== undefined && values.ca !== values['ca-file']) throw new UsageError('give --ca or --ca-file, not both');
  const caPath = values.ca ?? values['ca-file'] ?? nonEmpty(io.env['STEAD_CA_FILE']);
  let ca: Buffer | undefined;
  if (caPath !== undefined) {
    try {
      ca = await fsp.readFile(resolve(io.cwd, caPath));
    } catch (err) {
      throw new UsageError(`cannot read the CA file ${caPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return { server, token, tokenSource: source, ca, timeoutMs: requestTimeout(values['request-timeout']) * 1000, warnings };
}

export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv): URL {
  const raw = flag ?? nonEmpty(env['STEAD_SERVER']);
  if (raw === undefined) throw new UsageError('no server: give --server URL or set STEAD_SERVER');
  const from = flag !== undefined ? '--server' : 'STEAD_SERVER';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${from} must be a URL such as https://stead.example.com:8140, got ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${from} must be an http:// or https:// URL`);
  if (url.username !== '' || url.password !== '') throw new UsageError(`${from} must not carry a user or password: the token goes in --token-file`);
  if (url.search !== '' || url.hash !== '') throw new UsageError(`${from} must not have a query or fragment`);
  return url;
}

async function resolveToken(flag: string | undefined, io: CliIo, warnings: string[]): Promise<{ token: string; source: string }> {
  const file = flag ?? nonEmpty(io.env['STEAD_TOKEN_FILE']);
  let token: string;
  let source: string;
  if (file !== undefined) {
    source = flag !== undefined ? `--token-file ${file}` : `STEAD_TOKEN_FILE (${file})`;
    token = await readTokenFile(resolve(io.cwd, file), source, warnings);
  } else if (nonEmpty(io.env['STEAD_TOKEN']) !== undefined) {
    source = 'STEAD_TOKEN';
    token = io.env['STEAD_TOKEN']!.trim();
  } else {
    const saved = defaultTokenFile(io.env);
    if (saved === undefined || !(await fsp.stat(saved).then((st) => st.isFile(), () => false))) {
      throw new UsageError('no operator token: give --token-file FILE, set STEAD_TOKEN_FILE or STEAD_TOKEN, or log in with `stead login --user NAME`');
    }
    source = `the saved login (${saved})`;
    token = await readTokenFile(saved, source, warnings);
  }
  if (token === '') throw new UsageError(`the token in ${source} is empty`);
  if (token.length > 1024 || !TOKEN.test(token)) throw new UsageError(`the token in ${source} is not a token (expected one line of letters, digits and - _ . ~ + /)`);
  return { token, source };
}

/**
 * Reads a token file through one descriptor: a regular file of at most 4 KiB. A file other users
 * can read or anyone else can write is refused (like ssh with a private key); one the group can
 * read is used with a warning.
 */
export async function readTokenFile(path: string, source: string, warnings: string[]): Promise<string> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UsageError(`cannot read the token file (${source}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UsageError(`the token file (${source}) is not a regular file`);
    if (st.size > MAX_TOKEN_FILE) throw new UsageError(`the token file (${source}) is larger than ${MAX_TOKEN_FILE} bytes: not a token`);
    const mode = st.mode & 0o777;
    if ((mode & 0o006) !== 0 || (mode & 0o020) !== 0) {
      throw new UsageError(`the token file ${path} is ${(mode & 0o004) !== 0 ? 'readable' : 'writable'} by other users (mode ${mode.toString(8).padStart(4, '0')}); fix: chmod 600 ${path}`);
    }
    if ((mode & 0o040) !== 0) warnings.push(`the token file ${path} is readable by its group (mode ${mode.toString(8).padStart(4, '0')}); consider chmod 600 ${path}`);
    const buf = Buffer.alloc(MAX_TOKEN_FILE + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_TOKEN_FILE) throw new UsageError(`the token file (${source}) is larger than ${MAX_TOKEN_FILE} bytes: not a token`);
    return buf.subarray(0, bytesRead).toString('utf8').trim();
  } finally {
    await fh.close();
  }
}

/** Where `stead login` saves its session token by default: $XDG_CONFIG_HOME/stead/token, else ~/.config/stead/token. */
export function defaultTokenFile(env: NodeJS.ProcessEnv): string | undefined {
  const config = nonEmpty(env['XDG_CONFIG_HOME']) ?? (nonEmpty(env['HOME']) !== undefined ? `${env['HOME']}/.config` : undefined);
  return config === undefined ? undefined : `${config}/stead/token`;
}

function requestTimeout(v: string | undefined): number {
  if (v === undefined) return 30;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 3600) throw new UsageError(`--request-timeout must be a number of seconds from 1 to 3600, got ${JSON.stringify(v)}`);
  return n;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

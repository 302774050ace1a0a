/**
 * Structured JSON-lines logging for the agent: one object per line with time, level, msg and
 * bound fields. Error values are reduced to { name, code, message }; nothing else about them
 * (stack traces go only to debug level). Callers never pass secrets or key material.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface JsonLoggerOptions {
  readonly stream: { write(chunk: string): unknown };
  readonly level?: LogLevel;
  readonly bindings?: Record<string, unknown>;
  readonly now?: () => Date;
}

/** An error as a plain object fit for a log line. */
export function errorFields(err: unknown, withStack = false): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, ...(code !== undefined ? { code } : {}), message: err.message, ...(withStack && err.stack ? { stack: err.stack } : {}) };
  }
  return { message: String(err) };
}

export function createJsonLogger(opts: JsonLoggerOptions): Logger {
  const min = RANK[opts.level ?? 'info'];
  const now = opts.now ?? (() => new Date());
  const bindings = opts.bindings ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    const line: Record<string, unknown> = { time: now().toISOString(), level, msg, ...bindings };
    for (const [k, v] of Object.entries(fields ?? {})) line[k] = v instanceof Error ? errorFields(v, level === 'debug') : v;
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ time: line.time, level, msg, note: 'fields not serialisable' });
    }
    opts.stream.write(`${text}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => createJsonLogger({ ...opts, bindings: { ...bindings, ...b } }),
  };
}

/**
 * The shell scripts of service actions (ADR 0018 §7): `systemctl start|stop|restart UNIT` for a
 * systemd service; for a process service the tracked `start`/`stop` commands, a stop defaulting
 * to SIGTERM to the processes matching its pattern (and user). Every value that comes from the
 * tracked service is single-quoted; the commands themselves are operator-written shell, like any
 * job script (and pass the same safety audit at launch).
 */
import type { TrackedService } from '../../../schemas/api/software.js';
import { ApiError } from '../../domain/errors.js';

export type ServiceAction = 'start' | 'stop' | 'restart';

/** Single-quotes `s` for /bin/sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The unit of a systemd service: `unit`, else NAME.service. */
export function unitOf(s: TrackedService): string {
  return s.unit ?? `${s.name}.service`;
}

/** An ERE (pgrep/pkill -f) for the tracked pattern: "/re/" as written, a substring escaped. */
export function patternRegex(pattern: string): string {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) return pattern.slice(1, -1);
  return pattern.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
}

/**
 * SIGTERM to every process whose command line matches the pattern (and user), except the shell
 * running this script and its parent: run as `sh -c SCRIPT`, the shell's own command line
 * contains the pattern. pgrep writes to a file (no command substitution: a forked subshell
 * would carry the script's command line too). Nothing running is success.
 */
function defaultStop(s: TrackedService): string {
  const user = s.user !== undefined ? ` -u ${shQuote(s.user)}` : '';
  return [
    'tmp=$(mktemp)',
    'trap \'rm -f "$tmp"\' EXIT',
    `pgrep${user} -f -- ${shQuote(patternRegex(s.pattern ?? ''))} > "$tmp" || [ $? -eq 1 ]`,
    'while read -r pid; do',
    '  if [ "$pid" = "$$" ] || [ "$pid" = "$PPID" ]; then continue; fi',
    '  kill -TERM "$pid" 2>/dev/null || echo "process $pid could not be signalled (gone, or not ours)" >&2',
    'done < "$tmp"',
  ].join('\n');
}

/** The script that performs `action` on the service (BAD_REQUEST when a process service lacks what it needs). */
export function serviceScript(s: TrackedService, action: ServiceAction): string {
  const head = `# stead: ${action} ${s.name} (tracked ${s.kind} service)\nset -e\n`;
  if (s.kind === 'systemd') return `${head}systemctl ${action} -- ${shQuote(unitOf(s))}\n`;
  if (s.pattern === undefined && s.stop === undefined && action !== 'start') throw new ApiError('BAD_REQUEST', `service ${s.name} has neither a pattern nor a stop command: it cannot be stopped`);
  const stop = s.stop ?? defaultStop(s);
  if (action === 'stop') return `${head}${stop}\n`;
  if (s.start === undefined) throw new ApiError('BAD_REQUEST', `service ${s.name} is a process service without a start command: track it with "start" to ${action} it from here`);
  if (action === 'start') return `${head}${s.start}\n`;
  return `${head}${stop}\nsleep 1\n${s.start}\n`;
}

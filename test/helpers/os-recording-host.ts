/**
 * A recording Host that plays systemd, for the systemd provider: systemd is not PID 1 on the test
 * machine, so `systemctl` cannot run for real. The host answers `systemctl show/start/stop/restart/
 * enable/disable/daemon-reload` from an in-memory unit table that behaves like systemd (unknown
 * units fail to start; static units cannot be disabled), records every exec, and reports
 * /run/systemd/system as a directory so provider detection picks systemd. Its behaviour is checked
 * by the same contract suite as the real providers. Any other Host call fails loudly.
 */
import type { ExecOptions, ExecResult, Host, Stat } from '../../agent/host/host.js';

export interface FakeUnit {
  active: boolean;
  /** UnitFileState: "enabled", "disabled", "static", "masked", … */
  fileState: string;
  needReload?: boolean;
  /** Counts start and restart jobs (a restart shows as a new "invocation"). */
  invocations?: number;
}

export interface RecordedExec {
  readonly file: string;
  readonly args: readonly string[];
  readonly opts: ExecOptions;
}

export interface SystemdRecordingHost extends Host {
  readonly units: Map<string, FakeUnit>;
  readonly calls: RecordedExec[];
}

const ok = (stdout = ''): ExecResult => ({ code: 0, signal: null, stdout, stderr: '', timedOut: false });
const fail = (code: number, stderr: string): ExecResult => ({ code, signal: null, stdout: '', stderr, timedOut: false });

function unsupported(name: string): never {
  throw new Error(`recording host: ${name} is not expected from a service provider`);
}

export function createSystemdRecordingHost(): SystemdRecordingHost {
  const units = new Map<string, FakeUnit>();
  const calls: RecordedExec[] = [];

  function systemctl(args: readonly string[]): ExecResult {
    const [verb, ...rest] = args;
    const dash = rest.indexOf('--');
    if (verb === 'daemon-reload') {
      for (const u of units.values()) u.needReload = false;
      return ok();
    }
    if (dash < 0 || dash !== rest.length - 2) return fail(1, `recording host: expected "-- NAME" after ${verb ?? ''}, got ${JSON.stringify(rest)}`);
    const name = rest[dash + 1] ?? '';
    const u = units.get(name);
    switch (verb) {
      case 'show': {
        if (!rest[0]?.startsWith('--property=')) return fail(1, 'recording host: show without --property');
        if (!u) return ok('LoadState=not-found\nActiveState=inactive\nUnitFileState=\nNeedDaemonReload=no\n');
        return ok(`LoadState=loaded\nActiveState=${u.active ? 'active' : 'inactive'}\nUnitFileState=${u.fileState}\nNeedDaemonReload=${u.needReload ? 'yes' : 'no'}\n`);
      }
      case 'start':
      case 'restart':
        if (!u) return fail(5, `Failed to ${verb} ${name}: Unit ${name} not found.`);
        if (u.fileState === 'masked') return fail(1, `Failed to ${verb} ${name}: Unit ${name} is masked.`);
        if (verb === 'start' && u.active) return ok();
        u.active = true;
        u.invocations = (u.invocations ?? 0) + 1;
        return ok();
      case 'stop':
        if (u) u.active = false;
        return u ? ok() : fail(5, `Failed to stop ${name}: Unit ${name} not loaded.`);
      case 'enable':
      case 'disable':
        if (!u) return fail(1, `Failed to ${verb} unit: Unit file ${name} does not exist.`);
        if (u.fileState === 'static' || u.fileState === 'masked') return ok();
        u.fileState = verb === 'enable' ? 'enabled' : 'disabled';
        return ok();
      default:
        return fail(1, `recording host: unknown systemctl verb ${verb ?? ''}`);
    }
  }

  return {
    root: '/',
    units,
    calls,
    realPath: (p) => p,
    exec(file, args, opts = {}) {
      calls.push({ file, args: [...args], opts });
      if (file === 'systemctl') return Promise.resolve(systemctl(args));
      if (file === '/bin/sh' && args[0] === '-c') return Promise.resolve(ok());
      return Promise.resolve(fail(127, `recording host: ${file} is not a command a systemd service runs`));
    },
    lstat(path): Promise<Stat | undefined> {
      return Promise.resolve(path === '/run/systemd/system' ? { kind: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0 } : undefined);
    },
    readFile: () => unsupported('readFile'),
    readlink: () => unsupported('readlink'),
    readdir: () => unsupported('readdir'),
    writeFileAtomic: () => unsupported('writeFileAtomic'),
    mkdir: () => unsupported('mkdir'),
    setAttributes: () => unsupported('setAttributes'),
    chmod: () => unsupported('chmod'),
    lchown: () => unsupported('lchown'),
    symlink: () => unsupported('symlink'),
    remove: () => unsupported('remove'),
    rename: () => unsupported('rename'),
    lookupUser: () => unsupported('lookupUser'),
    lookupGroup: () => unsupported('lookupGroup'),
  };
}

/**
 * `stead service start|stop|restart NAME --targets SEL`: a tracked service started, stopped or
 * restarted on hosts as an audited job (systemctl, or the tracked commands of a process
 * service), in batches through the rollout engine with --batches (ADR 0018 §7).
 */
import { UsageError, writeLine, type CliIo } from '../io.js';
import { commonOptions } from '../operator/actions.js';
import { oneId, parse } from '../operator/args.js';
import { connectionUsage } from '../operator/connection.js';
import { OperatorError, operatorExitCodes } from '../operator/errors.js';
import { afterLaunch } from '../operator/launch.js';
import { afterRolloutLaunch, refuseRolloutOption } from '../operator/rollout-launch.js';
import { RolloutOptionError, rolloutFlagOptions, rolloutPolicyFromFlags } from '../operator/rollout-view.js';
import { withSession } from '../operator/session.js';

export const usage = `Usage: stead service <start|stop|restart> NAME --targets SEL [options]
                [--batches EXPR [--gate manual|auto] [--wait-between S] [--max-failures N|P%]]
                [--include-inactive] [--wait] [--json]

Starts, stops or restarts a tracked service (stead services track) on the hosts of a target
selector: one job whose script runs "systemctl ACTION UNIT" (a process service: its tracked
start/stop commands). With --batches, one job per batch through the rollout engine. Hosts whose
lifecycle is not online are left out unless --include-inactive. Audited; a stop or restart
asked for here is not drift.

Options:
  --targets SEL        hosts: host:web-1,group:web,idc:sz,tag:canary,... (required)
  --include-inactive   also hosts in maintenance, standby, ...
  --batches EXPR       deliver in batches (1,10%,+20%,100%); --gate, --wait-between and
                       --max-failures as for stead job run
  --wait               follow the job (or rollout) to its end
  --json               JSON on stdout
  -h, --help           show this help

${connectionUsage}

Exit codes:
  0   done; with --wait: every host succeeded
  1   --wait: the job or rollout did not succeed on every host
  2   the server refused the request (not tracked, no runnable host, invalid)
  3   the token was refused or lacks the role (admin)
  4   the server could not be reached, timed out or failed
  64  usage error
  130 interrupted while waiting (the job keeps running)`;

const actions = ['start', 'stop', 'restart'] as const;

export async function run(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '-h' || action === '--help') {
    writeLine(action === undefined ? io.stderr : io.stdout, usage);
    return action === undefined ? operatorExitCodes.usage : operatorExitCodes.ok;
  }
  if (!(actions as readonly string[]).includes(action)) throw new UsageError(`unknown action ${JSON.stringify(action.slice(0, 50))}: start, stop or restart`);
  const { values, positionals } = parse(rest, {
    ...commonOptions,
    targets: { type: 'string' },
    'include-inactive': { type: 'boolean' },
    wait: { type: 'boolean' },
    ...rolloutFlagOptions,
  });
  if (values.help) {
    writeLine(io.stdout, usage);
    return operatorExitCodes.ok;
  }
  const name = oneId('service NAME', positionals);
  if (values.targets === undefined) throw new UsageError('--targets SEL is required (e.g. host:web-1 or group:web)');
  let policy;
  try {
    policy = rolloutPolicyFromFlags(values);
  } catch (err) {
    if (!(err instanceof RolloutOptionError)) throw err;
    return refuseRolloutOption(io, `service ${action}`, err, values.json === true);
  }
  const body = { targets: values.targets, ...(values['include-inactive'] ? { includeInactive: true } : {}), ...(policy ? { policy } : {}) };
  return withSession(io, `service ${action}`, values, async (s) => {
    const started = await s.client.request<{ job?: string; rollout?: string }>('POST', `/software/services/${encodeURIComponent(name)}/${action}`, body);
    if (typeof started?.rollout === 'string') return afterRolloutLaunch(s, await s.client.request('GET', `/rollouts/${encodeURIComponent(started.rollout)}`), values.wait === true);
    if (typeof started?.job === 'string') return afterLaunch(s, await s.client.request('GET', `/jobs/${encodeURIComponent(started.job)}`), values.wait === true);
    throw new OperatorError('BAD_RESPONSE', 'the server answered neither a job nor a rollout', operatorExitCodes.unavailable);
  });
}

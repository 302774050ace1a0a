/**
 * Rules on one simple command (program + arguments, after wrappers): rm, mkfs, dd, chmod,
 * find, shutdown, iptables, truncation of critical files, writes onto block devices.
 */
import { basename, hasFlag, splitOptions, type Arg, type Command } from './command.js';
import { isBlockDevice, isCriticalFile, isCriticalTarget } from './words.js';

export interface CommandFinding {
  readonly rule: string;
  readonly message: string;
}

/** What a path argument amounts to: critical as written, critical when a variable is empty, or neither. */
function pathDanger(a: Arg): 'literal' | 'empty-var' | undefined {
  if (a.value.literal !== undefined) return isCriticalTarget(a.value.literal) ? 'literal' : undefined;
  return a.value.mayBeEmptyPart && isCriticalTarget(a.value.collapsed) ? 'empty-var' : undefined;
}

function shown(a: Arg): string {
  const v = a.value.literal ?? a.value.collapsed.replace(/\u0001/g, '…');
  return v === '' ? '""' : v;
}

export function checkCommand(cmd: Command): CommandFinding[] {
  const name = cmd.name;
  if (name === undefined) return [];
  const out: CommandFinding[] = [];
  const { options, operands } = splitOptions(cmd.args);
  switch (name) {
    case 'rm': {
      if (!hasFlag(options, 'r', '--recursive') && !hasFlag(options, 'R')) break;
      if (options.includes('--no-preserve-root')) out.push({ rule: 'rm-root', message: 'rm -r --no-preserve-root lets rm delete /' });
      for (const a of operands) {
        const d = pathDanger(a);
        if (d === 'literal') out.push({ rule: 'rm-root', message: `rm -r deletes ${shown(a)}` });
        else if (d === 'empty-var') out.push({ rule: 'rm-empty-var', message: `rm -r of a path that is ${a.value.collapsed || '/'} when a variable is empty; write \${VAR:?} to fail instead` });
      }
      break;
    }
    case 'chmod':
    case 'chown':
    case 'chgrp': {
      if (!hasFlag(options, 'R', '--recursive')) break;
      const targets = options.some((o) => o.startsWith('--reference')) ? operands : operands.slice(1);
      for (const a of targets) {
        const d = pathDanger(a);
        if (d) out.push({ rule: 'chmod-root', message: `${name} -R on ${d === 'literal' ? shown(a) : `a path that is ${a.value.collapsed || '/'} when a variable is empty`}` });
      }
      break;
    }
    case 'dd':
      for (const a of operands) {
        const v = a.value.literal ?? a.value.collapsed;
        if (v.startsWith('of=') && isBlockDevice(v.slice(3))) out.push({ rule: 'dd-block-device', message: `dd writes onto the block device ${v.slice(3)}` });
      }
      break;
    case 'shred':
    case 'tee':
    case 'cp':
    case 'mv':
    case 'install':
    case 'truncate':
      checkWriters(name, options, operands, out);
      break;
    case 'find':
      checkFind(cmd.args, out);
      break;
    case 'shutdown':
      if (!hasFlag(options, 'c') && !options.includes('--help')) out.push({ rule: 'shutdown', message: 'shutdown stops or restarts the host' });
      break;
    case 'reboot':
    case 'halt':
    case 'poweroff':
      if (!options.includes('--help')) out.push({ rule: 'shutdown', message: `${name} stops or restarts the host` });
      break;
    case 'init':
    case 'telinit':
      if (operands.some((a) => a.value.literal === '0' || a.value.literal === '6')) out.push({ rule: 'shutdown', message: `${name} ${operands[0] ? shown(operands[0]) : ''} stops or restarts the host` });
      break;
    case 'systemctl':
      if (operands.some((a) => ['poweroff', 'reboot', 'halt', 'kexec'].includes(a.value.literal ?? ''))) out.push({ rule: 'shutdown', message: 'systemctl stops or restarts the host' });
      break;
    case 'iptables':
    case 'ip6tables':
    case 'iptables-legacy':
    case 'iptables-nft':
    case 'ip6tables-legacy':
    case 'ip6tables-nft':
      if (options.some((o) => o === '--flush' || (/^-[A-Za-z]+$/.test(o) && o.includes('F')))) out.push({ rule: 'iptables-flush', message: `${name} -F flushes firewall rules` });
      break;
    case 'nft':
      if (operands.some((a) => a.value.literal === 'flush') && operands.some((a) => a.value.literal === 'ruleset')) out.push({ rule: 'iptables-flush', message: 'nft flush ruleset removes every firewall rule' });
      break;
    default:
      if (/^mkfs(\..+)?$/.test(name) || ['mke2fs', 'mkswap', 'wipefs', 'mkdosfs', 'mkntfs'].includes(name)) {
        if (operands.length > 0 && !options.includes('--help')) out.push({ rule: 'mkfs', message: `${name} erases ${shown(operands[operands.length - 1]!)}` });
      }
  }
  return out;
}

function checkWriters(name: string, options: readonly string[], operands: readonly Arg[], out: CommandFinding[]): void {
  const values = operands.map((a) => a.value.literal ?? '');
  const last = values[values.length - 1] ?? '';
  if (name === 'shred' || name === 'tee') {
    const dev = values.find(isBlockDevice);
    if (dev) out.push({ rule: 'write-block-device', message: `${name} writes onto the block device ${dev}` });
    const crit = values.find(isCriticalFile);
    if (name === 'tee' && crit && !hasFlag(options, 'a', '--append')) out.push({ rule: 'truncate-critical-file', message: `tee overwrites ${crit}` });
    return;
  }
  if (name === 'truncate') {
    const crit = values.find(isCriticalFile);
    if (crit) out.push({ rule: 'truncate-critical-file', message: `truncate cuts ${crit}` });
    return;
  }
  if (values.length >= 2 && isBlockDevice(last)) out.push({ rule: 'write-block-device', message: `${name} writes onto the block device ${last}` });
  if (values.length >= 2 && isCriticalFile(last) && values.slice(0, -1).includes('/dev/null')) out.push({ rule: 'truncate-critical-file', message: `${name} /dev/null empties ${last}` });
}

function checkFind(args: readonly Arg[], out: CommandFinding[]): void {
  const starts: Arg[] = [];
  let i = 0;
  while (i < args.length && /^-[HLP]$|^-O\d$/.test(args[i]!.value.literal ?? '')) i++;
  if (args[i]?.value.literal === '-D') i += 2;
  for (; i < args.length; i++) {
    const v = args[i]!.value.literal;
    if (v !== undefined && (v.startsWith('-') || v === '(' || v === '!' || v === ')')) break;
    starts.push(args[i]!);
  }
  const expr = args.slice(i).map((a) => a.value.literal ?? '');
  const deletes = expr.includes('-delete') || expr.some((v, k) => (v === '-exec' || v === '-execdir' || v === '-ok' || v === '-okdir') && basename(expr[k + 1] ?? '') === 'rm');
  if (!deletes || expr.includes('-maxdepth')) return;
  for (const a of starts) {
    const d = pathDanger(a);
    if (d) out.push({ rule: 'find-delete-root', message: `find deletes under ${d === 'literal' ? shown(a) : `a path that is ${a.value.collapsed || '/'} when a variable is empty`} with no -maxdepth` });
  }
}

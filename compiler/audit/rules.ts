/** The rule catalogue: ids, what each catches, its default mode. */
import type { AuditRuleInfo } from './types.js';

/** A script that does not parse, or exceeds the audit's bounds: always block, cannot be turned off. */
export const PARSE_ERROR_RULE = 'parse-error';

const both: AuditRuleInfo['langs'] = ['shell', 'python'];

export const auditRules: readonly AuditRuleInfo[] = Object.freeze([
  { id: PARSE_ERROR_RULE, description: 'The script does not parse, or is too large or too deeply nested to audit; it is never run unaudited. Always block.', defaultMode: 'block', langs: both },
  { id: 'rm-root', description: 'Recursive deletion of /, /*, or a top-level system directory (rm -r, shutil.rmtree, os.remove of such a path).', defaultMode: 'block', langs: both },
  { id: 'rm-empty-var', description: 'Recursive deletion of a path that becomes / (or /*, or a system directory) when a variable is empty, e.g. rm -rf "$DIR/"*. Use ${DIR:?} to fail on an empty variable.', defaultMode: 'block', langs: both },
  { id: 'mkfs', description: 'Making a filesystem (mkfs, mkfs.*, mke2fs, mkswap, wipefs), which erases a device.', defaultMode: 'block', langs: both },
  { id: 'dd-block-device', description: 'dd writing onto a block device (of=/dev/sd*, nvme*, vd*, xvd*, hd*, mmcblk*, dm-*, md*, loop*, mapper/*).', defaultMode: 'block', langs: both },
  { id: 'write-block-device', description: 'Redirecting output onto a block device (> /dev/sda), or shred/cp/cat onto one.', defaultMode: 'block', langs: both },
  { id: 'fork-bomb', description: 'A function that calls itself at least twice, in the background (:(){ :|:& };:).', defaultMode: 'block', langs: ['shell'] },
  { id: 'chmod-root', description: 'chmod, chown or chgrp -R on / or a top-level system directory.', defaultMode: 'block', langs: both },
  { id: 'download-exec', description: 'Downloaded code run directly: curl|wget piped into a shell or interpreter, bash <(curl …), eval "$(curl …)", Python exec/eval of a downloaded body.', defaultMode: 'block', langs: both },
  { id: 'find-delete-root', description: 'find -delete (or -exec rm) from / or a top-level system directory without -maxdepth.', defaultMode: 'block', langs: both },
  { id: 'truncate-critical-file', description: 'Overwriting or truncating an account or boot file (/etc/passwd, shadow, group, gshadow, sudoers, fstab) with > or truncate/cp /dev/null.', defaultMode: 'block', langs: both },
  { id: 'shutdown', description: 'Stopping or restarting the host: shutdown, reboot, halt, poweroff, init 0/6, systemctl poweroff|reboot|halt.', defaultMode: 'scan', langs: both },
  { id: 'iptables-flush', description: 'Flushing the firewall: iptables/ip6tables -F, nft flush ruleset.', defaultMode: 'scan', langs: both },
]);

export const ruleIds: ReadonlySet<string> = new Set(auditRules.map((r) => r.id));

export function defaultModeOf(rule: string): AuditRuleInfo['defaultMode'] {
  return auditRules.find((r) => r.id === rule)?.defaultMode ?? 'block';
}

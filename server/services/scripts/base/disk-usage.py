#!/usr/bin/env python3
"""disk-usage: print the usage of mounted file systems (or of PATHS) and emit key=value results.

Results: fullest (the mount point), fullest_percent, checked (how many), over (how many are
above THRESHOLD). Exits 1 when any is above THRESHOLD percent.
"""
import os
import sys

try:  # the agent's helper library; the fallbacks keep the script runnable by hand
    from stead import stead_fail, stead_log, stead_result  # type: ignore
except ImportError:
    def stead_log(msg):
        print(msg, file=sys.stderr)

    def stead_result(key, value):
        print(f"{key}={value}")

    def stead_fail(msg):
        print(f"error: {msg}", file=sys.stderr)
        sys.exit(1)

REAL_FS = {"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "vfat", "f2fs", "reiserfs", "jfs", "overlay", "tmpfs", "nfs", "nfs4", "ntfs", "exfat"}


def mounts():
    seen = []
    try:
        with open("/proc/mounts", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] in REAL_FS:
                    point = parts[1].replace("\\040", " ")
                    if point not in seen:
                        seen.append(point)
    except OSError:
        pass
    return seen or ["/"]


def main():
    raw_threshold = os.environ.get("THRESHOLD", "90") or "90"
    try:
        threshold = float(raw_threshold)
    except ValueError:
        stead_fail(f"THRESHOLD must be a number, not {raw_threshold!r}")
    if not 0 <= threshold <= 100:
        stead_fail("THRESHOLD must be between 0 and 100")
    paths = os.environ.get("PATHS", "").split() or mounts()
    fullest, fullest_pct, over = None, -1.0, 0
    print(f"{'mount':<30} {'size':>12} {'used':>12} {'avail':>12} {'use%':>6}")
    for p in paths[:500]:
        try:
            st = os.statvfs(p)
        except OSError as e:
            stead_log(f"{p}: {e.strerror}")
            continue
        size = st.f_blocks * st.f_frsize
        avail = st.f_bavail * st.f_frsize
        used = size - st.f_bfree * st.f_frsize
        pct = 0.0 if used + avail == 0 else round(used * 100.0 / (used + avail), 1)
        print(f"{p:<30} {size:>12} {used:>12} {avail:>12} {pct:>5}%")
        if pct > fullest_pct:
            fullest, fullest_pct = p, pct
        if pct > threshold:
            over += 1
    if fullest is None:
        stead_fail("no path could be measured")
    stead_result("fullest", fullest)
    stead_result("fullest_percent", f"{fullest_pct}")
    stead_result("checked", str(len(paths[:500])))
    stead_result("over", str(over))
    if over:
        stead_fail(f"{over} file system(s) above {threshold}%")


if __name__ == "__main__":
    main()

"""Stead job helpers for Python scripts (PYTHONPATH includes $STEAD_LIB):

    import stead
    stead.log("info", "starting")
    stead.result("version", "1.2.3")      # a key=value result for later steps
    stead.fail("disk full", code=3)       # records the reason, prints it on stderr, exits 3

Results travel on the private channel STEAD_RESULTS_FD (fd 3), never on stdout.
"""
import os
import re
import sys

__all__ = ["log", "result", "fail"]


def log(level, msg):
    """A log line on stderr: "stead: LEVEL: MSG"."""
    sys.stderr.write("stead: %s: %s\n" % (level, msg))
    sys.stderr.flush()


def _record(kind, key, value):
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    fd = os.environ.get("STEAD_RESULTS_FD")
    if not fd:
        log("warn", "no results channel (not run by the stead agent): %s %s" % (kind, key))
        return
    rec = ("%s %s %d\n" % (kind, key, len(data))).encode("utf-8") + data + b"\n"
    try:
        view = memoryview(rec)
        while view:
            n = os.write(int(fd), view)
            view = view[n:]
    except OSError:
        log("warn", "cannot write the results channel")


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


def result(key, value):
    """Records key=value for later steps (value: str or bytes). Raises ValueError for an invalid key."""
    if not _KEY.match(str(key)):
        raise ValueError("stead.result: invalid key %r (letters, digits, _ . -; not starting with a digit)" % (key,))
    _record("result", str(key), value if isinstance(value, (bytes, bytearray)) else str(value))


def fail(msg, code=1):
    """Records msg as the reason the script failed, prints it on stderr and exits with code."""
    _record("fail", "-", str(msg))
    log("error", msg)
    sys.stdout.flush()
    sys.exit(code)

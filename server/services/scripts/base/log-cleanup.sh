#!/bin/sh
# log-cleanup: delete *.log files older than DAYS days under DIR, at most DEPTH levels down.
# Never follows symbolic links (find -P), never leaves DIR's file system (-xdev), deletes regular
# files only. DIR is required: "${DIR:?}" stops the script before find runs when it is unset or empty.
set -u

command -v stead_log >/dev/null 2>&1 || stead_log() { printf '%s\n' "$*" >&2; }
command -v stead_fail >/dev/null 2>&1 || stead_fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
command -v stead_result >/dev/null 2>&1 || stead_result() { printf '%s=%s\n' "$1" "$2"; }

: "${DIR:?DIR is required: the directory to clean}"
DAYS=${DAYS:-7}
DEPTH=${DEPTH:-1}
DRY_RUN=${DRY_RUN:-no}

case $DIR in
  /*) ;;
  *) stead_fail "DIR must be an absolute path, not '$DIR'" ;;
esac
case $DIR in
  /|//*|*/../*|*/..|*/./*|*/.) stead_fail "DIR '$DIR' is refused (the root, or a path with . or ..)" ;;
esac
case $DAYS in ''|*[!0-9]*) stead_fail "DAYS must be a whole number, not '$DAYS'" ;; esac
case $DEPTH in ''|*[!0-9]*) stead_fail "DEPTH must be a whole number, not '$DEPTH'" ;; esac
[ "$DEPTH" -ge 1 ] && [ "$DEPTH" -le 10 ] || stead_fail "DEPTH must be between 1 and 10"
[ -d "$DIR" ] || stead_fail "$DIR is not a directory"
[ ! -L "$DIR" ] || stead_fail "$DIR is a symbolic link; name the real directory"

# -print before -delete: each deleted file is listed (and counted) once.
if [ "$DRY_RUN" = yes ]; then
  count=$(find -P "${DIR:?}" -xdev -maxdepth "$DEPTH" -type f -name '*.log' -mtime +"$DAYS" -print | tee /dev/stderr | wc -l | tr -d ' ')
  deleted=0
  stead_log "would delete $count file(s) under $DIR"
else
  count=$(find -P "${DIR:?}" -xdev -maxdepth "$DEPTH" -type f -name '*.log' -mtime +"$DAYS" -print -delete | wc -l | tr -d ' ')
  deleted=$count
  stead_log "deleted $count file(s) under $DIR"
fi
stead_result matched "$count"
stead_result deleted "$deleted"

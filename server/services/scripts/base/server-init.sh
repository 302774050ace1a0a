#!/bin/sh
# server-init: check (and with APPLY=yes fix) a server's hostname, timezone and open-files limit.
# Idempotent: a second run with the same parameters changes nothing and reports "ok" for each.
# Parameters arrive as environment variables (see the script's declared parameters).
set -u

# The agent's helper library defines these; the fallbacks keep the script runnable by hand.
command -v stead_log >/dev/null 2>&1 || stead_log() { printf '%s\n' "$*" >&2; }
command -v stead_fail >/dev/null 2>&1 || stead_fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
command -v stead_result >/dev/null 2>&1 || stead_result() { printf '%s=%s\n' "$1" "$2"; }

HOSTNAME_EXPECTED=${HOSTNAME_EXPECTED:-}
TIMEZONE=${TIMEZONE:-UTC}
MIN_NOFILE=${MIN_NOFILE:-65536}
APPLY=${APPLY:-no}

case $MIN_NOFILE in
  ''|*[!0-9]*) stead_fail "MIN_NOFILE must be a number, not '$MIN_NOFILE'" ;;
esac
case $TIMEZONE in
  ''|*..*|/*|*[!A-Za-z0-9_+/-]*) stead_fail "TIMEZONE '$TIMEZONE' is not an IANA zone name" ;;
esac

problems=0
changed=0

# 1. hostname
current_host=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null || echo unknown)
if [ -n "$HOSTNAME_EXPECTED" ] && [ "$current_host" != "$HOSTNAME_EXPECTED" ]; then
  if [ "$APPLY" = yes ]; then
    if command -v hostnamectl >/dev/null 2>&1; then
      hostnamectl set-hostname -- "$HOSTNAME_EXPECTED" || stead_fail "could not set the hostname"
    else
      hostname -- "$HOSTNAME_EXPECTED" && printf '%s\n' "$HOSTNAME_EXPECTED" > /etc/hostname || stead_fail "could not set the hostname"
    fi
    stead_log "hostname: changed from $current_host to $HOSTNAME_EXPECTED"
    changed=$((changed + 1))
  else
    stead_log "hostname: $current_host, expected $HOSTNAME_EXPECTED"
    problems=$((problems + 1))
  fi
else
  stead_log "hostname: ok ($current_host)"
fi
stead_result hostname "$current_host"

# 2. timezone
current_tz=""
if [ -L /etc/localtime ]; then
  current_tz=$(readlink /etc/localtime | sed -n 's|.*/zoneinfo/||p')
fi
[ -n "$current_tz" ] || current_tz=$(cat /etc/timezone 2>/dev/null || echo unknown)
if [ "$current_tz" != "$TIMEZONE" ]; then
  if [ "$APPLY" = yes ]; then
    [ -e "/usr/share/zoneinfo/$TIMEZONE" ] || stead_fail "no zone file for $TIMEZONE under /usr/share/zoneinfo"
    if command -v timedatectl >/dev/null 2>&1 && timedatectl set-timezone "$TIMEZONE" 2>/dev/null; then
      :
    else
      ln -sfn "/usr/share/zoneinfo/$TIMEZONE" /etc/localtime || stead_fail "could not link /etc/localtime"
      printf '%s\n' "$TIMEZONE" > /etc/timezone
    fi
    stead_log "timezone: changed from $current_tz to $TIMEZONE"
    changed=$((changed + 1))
  else
    stead_log "timezone: $current_tz, expected $TIMEZONE"
    problems=$((problems + 1))
  fi
else
  stead_log "timezone: ok ($current_tz)"
fi
stead_result timezone "$current_tz"

# 3. open-files limit for new sessions (limits.d drop-in; this process keeps its own limit)
limits_file=/etc/security/limits.d/90-stead-nofile.conf
wanted="* - nofile $MIN_NOFILE"
current_nofile=$(ulimit -n)
if [ "$current_nofile" = unlimited ] || [ "$current_nofile" -ge "$MIN_NOFILE" ]; then
  stead_log "nofile: ok ($current_nofile)"
elif [ -f "$limits_file" ] && grep -qxF "$wanted" "$limits_file"; then
  stead_log "nofile: $current_nofile now; $limits_file already raises it to $MIN_NOFILE for new sessions"
elif [ "$APPLY" = yes ]; then
  mkdir -p /etc/security/limits.d && printf '%s\n' "# written by the stead base script server-init" "$wanted" > "$limits_file" || stead_fail "could not write $limits_file"
  stead_log "nofile: $current_nofile; wrote $limits_file ($MIN_NOFILE for new sessions)"
  changed=$((changed + 1))
else
  stead_log "nofile: $current_nofile, expected at least $MIN_NOFILE"
  problems=$((problems + 1))
fi
stead_result nofile "$current_nofile"

stead_result changed "$changed"
stead_result problems "$problems"
[ "$problems" -eq 0 ] || stead_fail "$problems check(s) failed (run with APPLY=yes to fix)"

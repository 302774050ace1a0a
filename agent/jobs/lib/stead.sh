# Stead job helpers for shell scripts. Sourced with:  . "$STEAD_LIB/stead.sh"
#
#   stead_log LEVEL MSG        a log line on stderr: "stead: LEVEL: MSG"
#   stead_result KEY VALUE     a key=value result for later steps (any bytes, newlines too)
#   stead_fail MSG [CODE]      records MSG as the reason, prints it on stderr, exits CODE (default 1)
#
# Results travel on the private channel STEAD_RESULTS_FD (fd 3), never on stdout.

stead_log() {
  printf 'stead: %s: %s\n' "$1" "$2" >&2
}

_stead_record() {
  # $1 kind, $2 key, $3 value: "<kind> <key> <length>\n<value>\n"
  _stead_len=$(printf '%s' "$3" | LC_ALL=C wc -c)
  _stead_len=$((_stead_len + 0))
  if [ -n "${STEAD_RESULTS_FD:-}" ]; then
    printf '%s %s %s\n%s\n' "$1" "$2" "$_stead_len" "$3" >&"$STEAD_RESULTS_FD" 2>/dev/null || stead_log warn "cannot write the results channel"
  else
    stead_log warn "no results channel (not run by the stead agent): $1 $2"
  fi
}

stead_result() {
  if [ $# -ne 2 ]; then
    stead_log error "usage: stead_result KEY VALUE"
    return 2
  fi
  case "$1" in
    '' | [!A-Za-z_]* | *[!A-Za-z0-9_.-]*)
      stead_log error "stead_result: invalid key '$1' (letters, digits, _ . -; not starting with a digit)"
      return 2 ;;
  esac
  _stead_record result "$1" "$2"
}

stead_fail() {
  _stead_record fail - "$1"
  stead_log error "$1"
  exit "${2:-1}"
}

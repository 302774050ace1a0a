#!/usr/bin/env bash
# `npm run test:mongo`: the store's MongoDB-wire tests against a real MongoDB (MONGODB_URL) or,
# without it, FerretDB v1 built from its Go module with its writes serialized (ADR 0023;
# test/mongo/build-ferretdb.sh) on its SQLite and PostgreSQL backends (each test file starts its
# own FerretDB: test/helpers/mongo-wire.ts).
# Ends with one plain line "N passed, N failed"; a FerretDB that cannot be built fails the run.
set -uo pipefail
cd "$(dirname "$0")/../.."

log_dir="${CI_LOG_DIR:-.ci/logs}"
mkdir -p "$log_dir"
log="$log_dir/test-mongo.log"
files=(test/server/store/mongo-contract.test.ts test/e2e/mongo-servers.test.ts test/e2e/mongo-cluster.test.ts)

fail() {
  echo "$1" >&2
  echo "0 passed, 1 failed"
  exit 1
}

if [ "${STEAD_E2E_SKIP_BUILD:-}" != "1" ]; then
  npm run build >"$log_dir/test-mongo-build.log" 2>&1 || fail "test:mongo: npm run build failed (see $log_dir/test-mongo-build.log)"
fi

if [ -n "${MONGODB_URL:-}" ]; then
  echo "test:mongo: against MONGODB_URL"
  unset STEAD_FERRETDB
else
  started=$(date +%s)
  bin="$(test/mongo/build-ferretdb.sh)" || fail "test:mongo: FerretDB could not be built (output above)"
  echo "test:mongo: FerretDB $("$bin" --version | sed -n 's/^version: //p') at $bin (ready in $(( $(date +%s) - started )) s)"
  export STEAD_FERRETDB="$bin"
  # Stock FerretDB too (Go's caches are warm by now): the server must refuse it for several servers.
  stock="$(STEAD_FERRETDB_STOCK=1 test/mongo/build-ferretdb.sh)" || fail "test:mongo: stock FerretDB could not be built (output above)"
  export STEAD_FERRETDB_STOCK_BINARY="$stock"
fi

CI=1 NO_COLOR=1 npx tap --disable-coverage "${files[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

summary="$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | grep -E '^# \{ total: [0-9]+' | tail -n 1 || true)"
[ -n "$summary" ] || fail "test:mongo: no tap summary (see $log)"
passed="$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")"
failed="$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")"
todo="$(sed -nE 's/.*todo: ([0-9]+).*/\1/p' <<<"$summary")"
skipped="$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")"
passed="${passed:-0}"; failed="${failed:-0}"; todo="${todo:-0}"; skipped="${skipped:-0}"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$todo" -gt 0 ] || [ "$skipped" -gt 0 ]; then
  echo "(${todo} todo: known differences of FerretDB from MongoDB, ${skipped} skipped; reasons listed above, see docs/store.md)"
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]

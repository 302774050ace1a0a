#!/usr/bin/env bash
# Builds FerretDB (a MongoDB wire-protocol server) from its Go module for `npm run test:mongo`
# and prints the binary's path. The binary and the copied sources live in a cache directory
# outside the repository (STEAD_FERRETDB_CACHE, default ~/.cache/stead/ferretdb), so a second
# run costs nothing; Go's own module and build caches make a rebuild quick.
#
# Why not `go install …/cmd/ferretdb@v1.24.2`: that binary panics at start ("Invalid
# build/version/version.txt file content"): the module zip lacks the generated
# build/version/version.txt that `bin/task gen-version` writes. So the module is copied out of
# the read-only module cache, version.txt is written, and ./cmd/ferretdb is built there.
#
# The copy is patched first with test/mongo/ferretdb-serialize-writes.patch (one process-wide
# mutex around write commands: single-document atomicity as MongoDB has it, which stock FerretDB
# v1 lacks; docs/store.md, ADR 0023). The cache directory is named after the patch's hash, so a
# changed patch builds a new binary. STEAD_FERRETDB_STOCK=1 builds the unpatched FerretDB.
set -euo pipefail

version="${STEAD_FERRETDB_VERSION:-v1.24.2}"
cache="${STEAD_FERRETDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stead/ferretdb}"
here="$(cd "$(dirname "$0")" && pwd)"
patch_file="$here/ferretdb-serialize-writes.patch"
if [ "${STEAD_FERRETDB_STOCK:-}" = "1" ]; then
  flavour="stock"
else
  flavour="serialized-$(sha256sum "$patch_file" | cut -c1-12)"
fi
bin="$cache/$version-$flavour/ferretdb"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then PATH="$PATH:/usr/local/go/bin"; else
    echo "build-ferretdb: no Go toolchain (go not on PATH, no /usr/local/go/bin/go)" >&2
    exit 1
  fi
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

started=$(date +%s)
echo "build-ferretdb: building FerretDB $version ($flavour) with $(go version) (first run only)" >&2
# The directory of the module in Go's module cache (downloaded through the module proxy).
download="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$version" 2>&1 || true)"
src="$(sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p' <<<"$download")"
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
  echo "build-ferretdb: go mod download github.com/FerretDB/FerretDB@$version gave no module directory:" >&2
  echo "$download" >&2
  exit 1
fi
cp -R "$src" "$work/src"
chmod -R u+w "$work/src"
# The patched build names itself in its version (buildInfo's ferretdbVersion), so a Stead server
# can tell it from stock FerretDB v1 (server/store/mongo/mongo-store.ts).
if [ "$flavour" = "stock" ]; then echo "$version"; else echo "$version-stead-serialized-writes"; fi > "$work/src/build/version/version.txt"
if [ "$flavour" != "stock" ]; then
  command -v patch >/dev/null 2>&1 || { echo "build-ferretdb: the patch command is missing (apt-get install patch)" >&2; exit 1; }
  (cd "$work/src" && patch -p1 --forward --silent <"$patch_file") >&2 || { echo "build-ferretdb: $patch_file does not apply to FerretDB $version" >&2; exit 1; }
fi
(cd "$work/src" && CGO_ENABLED=0 go build -trimpath -o "$work/ferretdb" ./cmd/ferretdb) >&2
"$work/ferretdb" --version >/dev/null
mkdir -p "$(dirname "$bin")"
mv "$work/ferretdb" "$bin"
echo "build-ferretdb: built in $(( $(date +%s) - started )) s: $bin" >&2
echo "$bin"

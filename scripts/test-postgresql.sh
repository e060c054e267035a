#!/usr/bin/env bash
# The PostgreSQL test stages, on a throwaway PostgreSQL 15 cluster
# (scripts/pg-cluster.sh) that is removed afterwards, whatever happens:
#
#   unit  the store unit tests (BUILD/unit-tests store_) on a database of
#         their own
#   api   the whole black-box suite, tests/api, with TEST_BACKEND=postgresql
#   pg    the PostgreSQL-only tests, tests/pg
#
#   scripts/test-postgresql.sh BUILD     tests BUILD/insights and BUILD/unit-tests
#
# Every stage runs even when an earlier one failed; the exit status is
# non-zero if any did, and the failed stages are listed. `make
# test-postgresql` calls it with the build directory. PYTHON names the
# interpreter (default /usr/bin/python3, Debian's, with python3-pytest),
# PG_BIN the PostgreSQL binaries.
set -u

die() { echo "test-postgresql: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
build=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
bin=$build/insights
unit=$build/unit-tests
[ -x "$bin" ] || die "no executable $bin (make $1/insights)"
[ -x "$unit" ] || die "no executable $unit (make $1/unit-tests)"

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 2
python=${PYTHON:-/usr/bin/python3}
# Chosen here for pg-cluster.sh, psql and the Python harness alike.
export PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
psql=$PG_BIN/psql

dir=$(mktemp -d /tmp/insights-pg.XXXXXX)
trap 'scripts/pg-cluster.sh stop "$dir"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)
url=$(scripts/pg-cluster.sh start "$dir") || { echo "test-postgresql: FAILED: cluster" >&2; exit 1; }
echo "test-postgresql: PostgreSQL 15 at $url"
base=${url%/postgres}

failed=
echo "test-postgresql: store unit tests"
if "$psql" -X -q -v ON_ERROR_STOP=1 "$url" -c 'CREATE DATABASE insights_unit'; then
  TEST_PG_STORE_URL="$base/insights_unit" "$unit" store_ || failed="$failed unit"
else
  failed="$failed unit"
fi

echo "test-postgresql: black-box API suite"
TEST_BACKEND=postgresql TEST_PG_URL="$url" INSIGHTS_BIN="$bin" \
  "$python" -m pytest -q -p no:cacheprovider tests/api || failed="$failed api"

echo "test-postgresql: PostgreSQL-only tests"
TEST_PG_URL="$url" TEST_PG_CLUSTER_DIR="$dir" INSIGHTS_BIN="$bin" \
  "$python" -m pytest -q -p no:cacheprovider tests/pg || failed="$failed pg"

echo "test-postgresql: done in $(( $(date +%s) - start )) s"
if [ -n "$failed" ]; then
  echo "test-postgresql: FAILED:$failed" >&2
  exit 1
fi

#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/, built by mk/fuzz.mk) one after
# the other for SECONDS each, then prints per target what libFuzzer's final
# statistics say: executions per second, coverage (cov: edges, ft:
# features), corpus size. Every target runs, even after one failed; the exit
# status is 1 when any failed (a crash, a leak, a sanitizer report, a broken
# invariant, a timeout).
#
#   scripts/fuzz.sh SECONDS DIR NAME...
#
# DIR holds the binaries (DIR/fuzz_NAME). Each runs on a scratch corpus,
# DIR/corpus/NAME, where libFuzzer writes the inputs it finds, seeded with
# the committed tests/fuzz/corpus/NAME (read only) and the dictionary
# tests/fuzz/dict/NAME.dict when there is one. A failing input is written to
# DIR/crashes/NAME/, the whole output to DIR/logs/NAME.log.
# FUZZ_FRESH=1 empties the scratch corpus first (`make test` does).
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: scripts/fuzz.sh SECONDS DIR NAME..." >&2
  exit 2
fi
seconds=$1 dir=$2
shift 2
cd "$(dirname "$0")/.." || exit 2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=() summary=()
for name in "$@"; do
  bin=$dir/fuzz_$name seeds=tests/fuzz/corpus/$name
  scratch=$dir/corpus/$name crashes=$dir/crashes/$name/ log=$dir/logs/$name.log
  if [ ! -x "$bin" ]; then
    echo "fuzz: no target $bin" >&2
    failed+=("$name")
    continue
  fi
  [ "${FUZZ_FRESH:-}" = 1 ] && rm -rf "$scratch"
  mkdir -p "$scratch" "$crashes" "$(dirname "$log")"
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -artifact_prefix="$crashes")
  [ -f "tests/fuzz/dict/$name.dict" ] && args+=(-dict="tests/fuzz/dict/$name.dict")
  [ -d "$seeds" ] || seeds=
  echo "fuzz: $name for ${seconds}s"
  "$bin" "${args[@]}" "$scratch" ${seeds:+"$seeds"} >"$log" 2>&1
  rc=$?
  # The last status line ("#N DONE cov: C ft: F corp: U/S ... exec/s: E")
  # and the final statistics.
  last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -n 1)
  field() { sed -nE "s/.* $1: ([^ ]+).*/\\1/p" <<<"$last"; }
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
  line=$(printf '%-8s exec/s %-7s cov %-6s ft %-7s corpus %-12s runs %s' "$name" \
         "${eps:-?}" "$(field cov)" "$(field ft)" "$(field corp)" "${runs:-?}")
  if [ $rc -ne 0 ]; then
    failed+=("$name")
    line="$line  FAILED (exit $rc)"
    echo "fuzz: $name FAILED; the report ($log):" >&2
    report='^==[0-9]+==|runtime error|^fuzz: invariant|^INFO: libFuzzer: timeout|Deadly signal'
    grep -m1 -A40 -E "$report" "$log" >&2 || tail -n 40 "$log" >&2
    sed -nE 's/.*Test unit written to (.*)/\1/p' "$log" | while read -r f; do
      echo "fuzz: replay with $bin $f" >&2
    done
  fi
  summary+=("$line")
done

echo "fuzz: ${seconds}s per target"
printf 'fuzz: %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (tests/fuzz/README.md: adding a crash to the corpus)" >&2
  exit 1
fi

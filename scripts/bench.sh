#!/usr/bin/env bash
# Whole-scan benchmark on the shared 40 MB corpus (../shared/bench40, the
# team's reference data; not part of a user's clone, not used by tests).
#
#   scripts/bench.sh [BINARY] [RUNS]     (default: target/release/rampart, 3)
#
# Prints, per case, the median of RUNS runs: CPU seconds (user+sys), wall
# seconds, peak resident memory, and MB/s of CPU. Cases: the whole corpus
# with 2 threads and with 1, each platform alone, the corpus copied 2x and
# 4x (hard links, so the copies cost no disk), `cat` of the corpus (the
# floor), and one tiny file (startup). Read CPU seconds first on a shared
# machine: wall time depends on what else runs.
#
# scripts/bench-compare.sh checks that two binaries report the same
# findings on the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/rampart}
runs=${2:-3}
corpus=${BENCH40:-../shared/bench40}
[ -x "$bin" ] || { echo "no binary at $bin (cargo build --release)" >&2; exit 2; }
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpus=$(cd "$corpus" && pwd)
for n in 2 4; do
  mkdir -p "$work/x$n"
  for i in $(seq 1 "$n"); do cp -al "$corpus" "$work/x$n/copy$i"; done
done
printf 'FROM alpine:3.19\nUSER app\n' > "$work/Dockerfile"

mb() { du -sbcLl "$@" 2>/dev/null | tail -1 | awk '{ printf "%.1f", $1 / 1e6 }'; }

# One case: the median run by CPU seconds of `runs` runs.
measure() {
  local name=$1 size=$2; shift 2
  local rows=()
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -f '%U %S %e %M' -o "$work/t" "$@" >/dev/null 2>&1 || true
    rows+=("$(tail -1 "$work/t")")
  done
  printf '%s\n' "${rows[@]}" \
    | awk '{ print $1 + $2, $3, $4 }' | sort -n \
    | awk -v n="$name" -v size="$size" -v r="$runs" 'NR == int((r + 1) / 2) {
        rate = ($1 > 0 && size > 0) ? sprintf("%.1f", size / $1) : "-"
        printf "%-28s %8.2f %8.2f %9.1f %9s\n", n, $1, $2, $3 / 1024, rate }'
}

# What every scan is given: the JSON report to a file (nothing on stdout).
report=(--no-config --fail-on none -o "json:$work/out.json")

printf '%-28s %8s %8s %9s %9s\n' case cpu-s wall-s peak-MB MB/cpu-s
measure "cat (floor)" "$(mb "$corpus")" sh -c "find '$corpus' -type f -exec cat {} + >/dev/null"
measure "corpus, 2 threads" "$(mb "$corpus")" "$bin" scan "$corpus" --threads 2 "${report[@]}"
measure "corpus, 1 thread" "$(mb "$corpus")" "$bin" scan "$corpus" --threads 1 "${report[@]}"
for p in tf k8s cfn docker; do
  measure "$p, 2 threads" "$(mb "$corpus/$p")" "$bin" scan "$corpus/$p" --threads 2 "${report[@]}"
done
measure "corpus 2x, 2 threads" "$(mb "$work/x2")" "$bin" scan "$work/x2" --threads 2 "${report[@]}"
measure "corpus 4x, 2 threads" "$(mb "$work/x4")" "$bin" scan "$work/x4" --threads 2 "${report[@]}"
measure "tf 4x, 2 threads" "$(mb "$work"/x4/copy*/tf)" "$bin" scan "$work"/x4/copy*/tf --threads 2 "${report[@]}"
measure "one tiny Dockerfile" 0 "$bin" scan "$work/Dockerfile" "${report[@]}"

#!/usr/bin/env bash
# Runs rampart's fuzz targets (fuzz/, cargo-fuzz) one after another.
#
#   scripts/fuzz.sh TARGET SECONDS    one target
#   scripts/fuzz.sh all SECONDS       every target, SECONDS each
#
# Targets: parse_hcl parse_yaml parse_json parse_dockerfile eval_terraform.
# One process on one core (libFuzzer's default without -jobs), one target at
# a time: the machine is shared. Each run starts from the
# seeds in fuzz/corpus/TARGET (the corpus it grows there is gitignored);
# a crash is saved under fuzz/artifacts/TARGET and the run stops with a
# non-zero status. Reproduce one with
#   cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...
#
# cargo-fuzz needs nightly for the sanitizer flags; on a stable toolchain
# RUSTC_BOOTSTRAP=1 lets stable accept them (set here unless already set).
set -euo pipefail

TARGETS=(parse_hcl parse_yaml parse_json parse_dockerfile eval_terraform)

usage() {
    echo "usage: $0 {all|${TARGETS[*]// /|}} SECONDS" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
target=$1
seconds=$2
[[ $seconds =~ ^[1-9][0-9]*$ ]] || usage

if [[ $target == all ]]; then
    selected=("${TARGETS[@]}")
else
    selected=()
    for t in "${TARGETS[@]}"; do
        [[ $t == "$target" ]] && selected=("$t")
    done
    [[ ${#selected[@]} -eq 1 ]] || usage
fi

command -v cargo-fuzz >/dev/null || {
    echo "$0: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2
    exit 2
}

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}

for t in "${selected[@]}"; do
    echo "== $t: ${seconds} s"
    mkdir -p "corpus/$t"
    # -rss_limit_mb and -timeout turn a runaway input (memory, a parse that
    # takes seconds) into a reported crash instead of a stalled run.
    cargo fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$seconds" \
        -rss_limit_mb=2048 -timeout=10 -max_len=8192 -print_final_stats=1
done

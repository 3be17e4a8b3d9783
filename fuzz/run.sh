#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each) and prints how many
# executions each ran. Not part of CI: needs cargo-fuzz (`cargo install cargo-fuzz`).
# The sanitizer flags need a nightly compiler; on a stable toolchain RUSTC_BOOTSTRAP=1
# unlocks them.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
export RUSTC_BOOTSTRAP=1
mkdir -p corpus/index_decoder
cp ../testdata/index/v4/seeds.shix corpus/index_decoder/
for target in input_reader normalize index_decoder index_segment params walker; do
    mkdir -p "corpus/$target"
    cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=65536 \
        2>&1 | tee "/tmp/storyhash-fuzz-$target.log" | grep -E "^(#[0-9]+\s+DONE|==|SUMMARY|Done)" || true
    grep -E "Done [0-9]+ runs" "/tmp/storyhash-fuzz-$target.log" | sed "s/^/$target: /"
done

#!/usr/bin/env bash
# A feed's answer latency against the size of the index it writes to (BENCHMARKS.md,
# "The persistent index", a feed): by each BINARY in turn (default: this tree's release
# build), a story index (`index create --stories story`) holding all but the last 200
# articles of CORPUS, made by that binary (an index of one format version), then those
# 200 sent one at a time to `index add IDX -` by benches/feed.py, 50 ms apart and back
# to back, each on a fresh copy of it.
#
#   bash benches/feed_scale.sh CORPUS.jsonl [WORKDIR] [BINARY...]
#
# CORPUS is a generated one, as benches/story_scale.sh writes (`gen_stories OUT
# EVENTS 3 5`); WORKDIR (default target/feed-scale) holds the index and a copy.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$1
work=${2:-target/feed-scale}
shift $(($# < 2 ? $# : 2))
cargo build --release --locked -q -p storyhash-cli
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=(target/release/storyhash)
mkdir -p "$work"
total=$(wc -l < "$corpus")
head -n $((total - 200)) "$corpus" > "$work/stored.jsonl"
tail -n 200 "$corpus" > "$work/feed.jsonl"
for binary in "${binaries[@]}"; do
    rm -rf "$work/index" "$work/run"
    "$binary" index create --stories story "$work/index" > /dev/null
    /usr/bin/time -f "$binary stored $((total - 200)) articles in %e s, peak %M KB" \
        "$binary" index add --quiet --format json "$work/index" "$work/stored.jsonl" > /dev/null
    for pause in 0.05 0; do
        rm -rf "$work/run"
        cp -r "$work/index" "$work/run"
        echo "$binary, ${pause} s apart: $(python3 benches/feed.py "$binary" "$work/run" \
            "$work/feed.jsonl" 200 "$pause")"
    done
done
rm -rf "$work/index" "$work/run" "$work/stored.jsonl"

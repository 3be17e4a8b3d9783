#!/usr/bin/env bash
# `stories` against `dedup` on the same generated multi-event corpora (BENCHMARKS.md,
# "Story and event clustering", linear cost): `gen_stories OUT EVENTS 3 5` at 32,000
# events (115,105 articles) on one thread and 280,000 events (about a million articles)
# on two; `stories --format json` and `dedup --output`, wall seconds and peak RSS from
# /usr/bin/time, one run a row, printed as the table's rows.
#
#   bash benches/story_scale.sh [WORKDIR]   (default target/story-scale; the larger
#   corpus takes 4.8 GB there)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/story-scale}
mkdir -p "$work"
# The CLI in a build of its own, as users build it: built with storyhash-bench, the
# library would carry the bench crate's features and compile differently.
cargo build --release --locked -q -p storyhash-cli
cargo build --release --locked -q -p storyhash-bench --bin gen_stories
bin=target/release/storyhash

# measure THREADS CMD...: "seconds MiB" of CMD on THREADS rayon threads.
measure() {
    local threads=$1
    shift
    RAYON_NUM_THREADS=$threads /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null
    awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$work/time.txt"
}

echo "| articles | threads | dedup s | dedup MiB | stories s | stories MiB | × dedup |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for spec in 32000:1 280000:2; do
    events=${spec%%:*}
    threads=${spec#*:}
    corpus="$work/stories-$events.jsonl"
    [ -s "$corpus" ] || target/release/gen_stories "$corpus" "$events" 3 5
    articles=$(wc -l < "$corpus")
    read -r dedup_s dedup_mib < <(measure "$threads" "$bin" dedup --quiet "$corpus" \
        --output "$work/kept.jsonl")
    read -r stories_s stories_mib < <(measure "$threads" "$bin" stories --quiet \
        --format json "$corpus")
    python3 -c 'import sys; n, t, ds, dm, ss, sm = sys.argv[1:]
print(f"| {int(n):,} | {t} | {ds} | {int(dm):,} | {ss} | {int(sm):,} | {float(ss) / float(ds):.1f} |")' \
        "$articles" "$threads" "$dedup_s" "$dedup_mib" "$stories_s" "$stories_mib"
done
rm -f "$work/kept.jsonl" "$work/time.txt"

#!/usr/bin/env bash
# A story-tracking index (BENCHMARKS.md, "The persistent index"): 115,105 generated
# articles about 32,000 events (`gen_stories OUT 32000 3 5`); an index created with
# `--stories story` takes the first 105,105 on one thread. Then, each in a fresh process
# on a fresh copy of that index: `index stats`, `index query` of 1,000 of the stored
# articles (their copies and the story each would join), `index stories` (its terms
# named: the story tracker read as the add's commit stored it, or rebuilt from the
# stored terms by a build that stores none), a durable `index add` of the
# other 10,000 (without and with `--learn-boilerplate`), and the add of a single article
# (mostly the writer's start: the story tracker read or rebuilt), on one and
# on two threads. Last, a new index given the 105,105 articles as its background
# (`index create --background`) and the add of the single article to it (the writer's
# start reads the background's counts).
#
# Usage: bash benches/story_index.sh [WORKDIR] [BINARY]
#   (defaults /tmp/storyhash-story-index and this tree's release build)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/storyhash-story-index}
mkdir -p "$work"
# The CLI in a build of its own, as users build it: built with storyhash-bench, the
# library would carry the bench crate's features and compile differently.
cargo build --release --locked -q -p storyhash-cli
cargo build --release --locked -q -p storyhash-bench --bin gen_stories
bin=${2:-$PWD/target/release/storyhash}
corpus="$work/stories.jsonl"
[ -s "$corpus" ] || target/release/gen_stories "$corpus" 32000 3 5
head -n 105105 "$corpus" > "$work/stored.jsonl"
tail -n 10000 "$corpus" > "$work/add.jsonl"
head -n 1000 "$corpus" > "$work/probes.jsonl"
tail -n 1 "$corpus" > "$work/one.jsonl"
timed() {
    local name=$1
    shift
    /usr/bin/time -f "{\"step\":\"$name\",\"wall_s\":%e,\"peak_rss_kib\":%M}" "$@" > /dev/null
}
rm -rf "$work/base.idx"
"$bin" index create "$work/base.idx" --stories story > /dev/null
RAYON_NUM_THREADS=1 timed "add 105,105, one thread" "$bin" index add -q "$work/base.idx" "$work/stored.jsonl"
timed "stats" "$bin" index stats "$work/base.idx"
timed "query 1,000" "$bin" index query "$work/base.idx" "$work/probes.jsonl"
timed "stories" "$bin" index stories "$work/base.idx"
for threads in 1 2; do
    for what in add:10,000 learn:10,000 one:1; do
        rm -rf "$work/copy.idx"
        cp -r "$work/base.idx" "$work/copy.idx"
        file=${what%%:*} flag=
        if [ "$file" = learn ]; then
            file=add flag=--learn-boilerplate
        fi
        # $flag unquoted: no word at all when empty.
        RAYON_NUM_THREADS=$threads timed "$file ${what#*:}${flag:+ $flag}, threads $threads" \
            "$bin" index add -q $flag "$work/copy.idx" "$work/$file.jsonl"
    done
done
rm -rf "$work/copy.idx"
rm -rf "$work/given.idx"
timed "create, background 105,105" \
    "$bin" index create "$work/given.idx" --stories story --background "$work/stored.jsonl"
timed "one:1 into the new index given them" "$bin" index add -q "$work/given.idx" "$work/one.jsonl"
rm -rf "$work/given.idx"

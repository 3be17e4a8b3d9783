#!/usr/bin/env bash
# The persistent index at scale (BENCHMARKS.md, "The persistent index"): a generated
# corpus of about a million articles (gen_corpus 770000), built into an index on one
# core, then measured in fresh processes: open time and resident memory, query latency,
# a durable `index add` of 10,000 new articles, the same after it, and the library's
# insertion rate on one core into the result.
#
# Usage: bash benches/index.sh [ORIGINALS] [WORKDIR]   (defaults 770000, /tmp/storyhash-index)
set -euo pipefail
cd "$(dirname "$0")/.."
originals=${1:-770000}
work=${2:-/tmp/storyhash-index}
mkdir -p "$work"
cargo build --release -q -p storyhash-bench --bin gen_corpus --bin bench_index
cargo build --release -q -p storyhash-cli
corpus="$work/corpus.jsonl"
[ -s "$corpus" ] || target/release/gen_corpus "$originals" "$corpus" "$work/truth.jsonl" 1
# The last 20,000 articles are held out: 10,000 to add, 10,000 to query with.
tail -n 20000 "$corpus" > "$work/held-out.jsonl"
head -n 10000 "$work/held-out.jsonl" > "$work/add.jsonl"
tail -n 10000 "$work/held-out.jsonl" > "$work/probes.jsonl"
rm -rf "$work/index.idx"
timed() { /usr/bin/time -f '{"wall_s":%e,"peak_rss_kib":%M}' "$@"; }
echo "# build (one core)"
RAYON_NUM_THREADS=1 timed target/release/bench_index build "$corpus" "$work/index.idx" 20000
echo "# open and query"
timed target/release/bench_index measure "$work/index.idx" "$work/probes.jsonl"
echo "# index add of 10,000 articles (durable)"
timed target/release/storyhash index add -q "$work/index.idx" "$work/add.jsonl" > /dev/null
echo "# open and query after the add"
timed target/release/bench_index measure "$work/index.idx" "$work/probes.jsonl"
echo "# library insertion into the index, one core (about 10,000 articles of new families)"
[ -s "$work/fresh.jsonl" ] || {
    target/release/gen_corpus 7700 "$work/fresh.jsonl" "$work/fresh-truth.jsonl" 7
    sed -i 's/"id":"/"id":"fresh-/' "$work/fresh.jsonl"
}
RAYON_NUM_THREADS=1 timed target/release/bench_index insert "$work/index.idx" "$work/fresh.jsonl"
du -sb "$work/index.idx"

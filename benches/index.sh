#!/usr/bin/env bash
# The persistent index at scale (BENCHMARKS.md, "The persistent index"): a generated
# corpus of about a million articles (gen_corpus 770000), built into an index on one
# core, then measured in fresh processes: open time and resident memory, query latency,
# a durable `index add` of 10,000 new articles, the same after it, the listing of its
# clusters, and the library's insertion rate on one core into copies of the result, by
# batch size.
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
echo "# index clusters --format json of the two segments (the clusters of two or more)"
timed target/release/storyhash index clusters --format json "$work/index.idx" \
    > "$work/clusters.json"
grep -c '^    "cluster": ' "$work/clusters.json"
echo "# library insertion on one core (about 10,000 articles of new families), on copies"
echo "# of the index, three runs per batch size (1: insert_or_match; 1,000; 8,192), from a"
echo "# fresh process and after answering the 10,000 probes as one query_batch"
[ -s "$work/fresh.jsonl" ] || {
    target/release/gen_corpus 7700 "$work/fresh.jsonl" "$work/fresh-truth.jsonl" 7
    sed -i 's/"id":"/"id":"fresh-/' "$work/fresh.jsonl"
}
for warm in "" "$work/probes.jsonl"; do
    for batch in 1 1000 8192; do
        for run in 1 2 3; do
            rm -rf "$work/insert.idx"
            cp -r "$work/index.idx" "$work/insert.idx"
            RAYON_NUM_THREADS=1 target/release/bench_index insert "$work/insert.idx" \
                "$work/fresh.jsonl" "$batch" ${warm:+"$warm"}
        done
    done
done
rm -rf "$work/insert.idx"
du -sb "$work/index.idx"
echo "# index compact of the two segments, fresh process, on a copy"
# Peak resident memory split as the kernel counts it: anonymous (the process's own) and
# file-backed (mapped segment pages, the page cache's), sampled every 20 ms.
rm -rf "$work/compact.idx"
cp -r "$work/index.idx" "$work/compact.idx"
start=$(date +%s.%N)
RAYON_NUM_THREADS=1 target/release/storyhash index compact "$work/compact.idx" > /dev/null &
pid=$!
anon=0 file=0
while kill -0 "$pid" 2> /dev/null; do
    read -r a f < <(awk '/RssAnon/{a=$2} /RssFile/{f=$2} END{print a+0, f+0}' \
        "/proc/$pid/status" 2> /dev/null || echo "0 0")
    ((a > anon)) && anon=$a
    ((f > file)) && file=$f
    sleep 0.02
done
wait "$pid"
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e - s}')
echo "{\"wall_s\":$wall,\"peak_anon_kib\":$anon,\"peak_file_kib\":$file}"
rm -rf "$work/compact.idx"

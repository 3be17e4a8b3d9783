#!/usr/bin/env bash
# The reproducible corpus benchmark: generates a news-like corpus with planted
# near-duplicates, runs storyhash (1 and 2 threads) and its kernels, datasketch and
# rensa (installed from PyPI into a venv here) on it in one run, and ends with a table
# (benches/corpus/table.py, also in $WORK/table.md): docs/s and docs/s per core, peak RSS,
# precision/recall against exact-Jaccard ground truth, and the ratios to the peers and
# to one xxh3 pass over the bytes; then storyhash alone on the same corpus generated in
# Arabic script and transliterated to accented Latin, Cyrillic, Devanagari and Hangul
# (variants.py).
#
#   bash benches/corpus/run.sh [ORIGINALS]     # default 17400 originals ≈ 22,600 docs
#   LARGE=1 bash benches/corpus/run.sh         # also dedup 1M generated documents
set -euo pipefail
cd "$(dirname "$0")/../.."
originals=${1:-17400}
work=${WORK:-target/corpus-bench}
mkdir -p "$work"
threshold=0.4

# The CLI in a build of its own, as users build it: built with storyhash-bench, the
# library would carry the bench crate's features and compile differently.
cargo build --release --locked -q -p storyhash-cli
cargo build --release --locked -q -p storyhash-bench --bins
bin=target/release

# peak_rss CMD...: runs CMD, prints its stdout, then "rss_mb <peak RSS of CMD in MiB>".
peak_rss() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True)
sys.stdout.write(proc.stdout)
if proc.returncode:
    sys.exit(proc.returncode)
print("rss_mb", round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
PY
}

echo "== corpus: $originals originals"
"$bin/gen_corpus" "$originals" "$work/corpus.jsonl" "$work/truth.jsonl" 1
du -h "$work/corpus.jsonl"

echo "== kernels (one core)"
"$bin/bench_kernels" "$work/corpus.jsonl" | tee "$work/kernels.json"

# settle KEPT: removes the kept file of the round before and flushes the file system,
# so that a round does not pay for the one before it: replacing a 47 MB file frees its
# blocks, and on a file system mounted with `discard` the journal commit that follows
# (and its discards) ran during the next round, tripling its write stage at times.
settle() {
    rm -f "$1"
    sync
}

# Nine rounds, 1 and 2 threads interleaved so that both see the same machine; the
# fastest round of each counts (the machine is shared: slower rounds measure neighbours,
# and a run takes well under a second, so a few more rounds cost little).
rounds=9
for round in $(seq $rounds); do
    for threads in 1 2; do
        echo "== storyhash dedup --threads $threads (round $round)"
        settle "$work/kept.jsonl"
        peak_rss "$bin/storyhash" dedup --quiet --threads "$threads" "$work/corpus.jsonl" \
            --output "$work/kept.jsonl" --pairs "$work/pairs-storyhash.jsonl" \
            --summary "$work/summary-$threads-$round.json" | tee "$work/rss-storyhash-$threads.txt"
    done
done

echo "== peers"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q "datasketch==2.0.0" "rensa==0.5.0"
fi
for tool in datasketch rensa; do
    echo "-- $tool"
    RAYON_NUM_THREADS=1 peak_rss "$work/venv/bin/python" benches/corpus/peers.py "$tool" \
        "$work/corpus.jsonl" "$work/pairs-$tool.jsonl" | tee "$work/peer-$tool.txt"
done

echo "== quality against exact Jaccard >= $threshold"
python3 benches/corpus/score.py "$work/corpus.jsonl" "$work/truth.jsonl" "$threshold" \
    "$work/pairs-storyhash.jsonl" "$work/pairs-datasketch.jsonl" "$work/pairs-rensa.jsonl" \
    | tee "$work/quality.json"

echo "== other scripts: Arabic (generated), accented Latin, Cyrillic, Devanagari and Hangul (transliterated; storyhash only)"
"$bin/gen_corpus" "$originals" "$work/arabic.jsonl" "$work/arabic-truth.jsonl" 1 arabic
python3 benches/corpus/variants.py "$work/corpus.jsonl" "$work"
for script in accented cyrillic devanagari hangul; do
    cp "$work/truth.jsonl" "$work/$script-truth.jsonl"
done
for script in arabic accented cyrillic devanagari hangul; do
    for round in $(seq $rounds); do
        for threads in 1 2; do
            settle "$work/$script-kept.jsonl"
            peak_rss "$bin/storyhash" dedup --quiet --threads "$threads" "$work/$script.jsonl" \
                --output "$work/$script-kept.jsonl" --pairs "$work/pairs-$script.jsonl" \
                --summary "$work/$script-summary-$threads-$round.json" \
                | tee "$work/rss-$script-$threads.txt"
        done
    done
    python3 benches/corpus/score.py "$work/$script.jsonl" "$work/$script-truth.jsonl" "$threshold" \
        "$work/pairs-$script.jsonl" | tee "$work/quality-$script.json"
done

echo "== results"
python3 benches/corpus/table.py "$work" "$rounds" | tee "$work/table.md"

if [ "${LARGE:-0}" = 1 ]; then
    echo "== 1M documents"
    "$bin/gen_corpus" 770000 "$work/large.jsonl" "$work/large-truth.jsonl" 7
    # A kept file from an earlier run, replaced at the end of this one, would still be
    # written back to disk while this one runs (it doubled the first pass once).
    settle "$work/large-kept.jsonl"
    peak_rss "$bin/storyhash" dedup --quiet "$work/large.jsonl" --output "$work/large-kept.jsonl" \
        --summary "$work/large-summary.json"
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['records'], 'docs', s['seconds'])" "$work/large-summary.json"
fi

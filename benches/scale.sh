#!/usr/bin/env bash
# Linear cost of every command on one corpus, in one run: `dedup`, `cluster`,
# `stories` and `index add` on a generated corpus of about 200,000 news-like documents
# with near-duplicate families (benches/src/bin/gen_corpus.rs, 154,000 originals), and
# on 100,000 identical articles. Prints seconds, peak RSS, each command's time over
# dedup's on the same file, and the index directory's bytes per document.
#
#   bash benches/scale.sh [ORIGINALS]
set -euo pipefail
cd "$(dirname "$0")/.."
originals=${1:-154000}
work=${WORK:-target/scale-bench}
mkdir -p "$work"
# The CLI in a build of its own, as users build it: built with storyhash-bench, the
# library would carry the bench crate's features and compile differently.
cargo build --release --locked -q -p storyhash-cli
cargo build --release --locked -q -p storyhash-bench --bins
bin=target/release/storyhash

target/release/gen_corpus "$originals" "$work/corpus.jsonl" "$work/truth.jsonl" 1
python3 - "$work" <<'PY'
import json, os, random, sys
random.seed(1)
words = [f"w{i}" for i in range(50000)]
article = " ".join(random.choice(words) for _ in range(450))
with open(os.path.join(sys.argv[1], "identical.jsonl"), "w") as f:
    for i in range(100_000):
        f.write(json.dumps({"id": i, "text": article}) + "\n")
PY

# run NAME CMD...: seconds and peak RSS of CMD, one line.
run() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
start = time.time()
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
seconds = time.time() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{name}\t{seconds:.2f}\t{rss:.0f}")
PY
}

for corpus in corpus identical; do
    input="$work/$corpus.jsonl"
    docs=$(wc -l < "$input")
    rm -rf "$work/$corpus.idx"
    "$bin" index create "$work/$corpus.idx" >/dev/null
    {
        run dedup "$bin" dedup --quiet "$input" -o "$work/kept.jsonl"
        run cluster "$bin" cluster "$input" -o "$work/report.txt"
        run stories "$bin" stories "$input" -o "$work/stories.txt"
        run "index add" "$bin" index add --quiet "$work/$corpus.idx" "$input"
    } > "$work/$corpus.tsv"
    python3 - "$work/$corpus.tsv" "$corpus" "$docs" "$work/$corpus.idx" <<'PY'
import os, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
# Each row over the dedup run on the same input.
dedup = next(float(seconds) for name, seconds, _ in rows if name == "dedup")
print(f"\n{sys.argv[2]}: {int(sys.argv[3]):,} documents")
print("| command | seconds | peak RSS (MiB) | × dedup |")
print("| --- | ---: | ---: | ---: |")
for name, seconds, rss in rows:
    print(f"| {name} | {float(seconds):.2f} | {rss} | {float(seconds) / dedup:.1f} |")
size = sum(e.stat().st_size for e in os.scandir(sys.argv[4]))
print(f"index directory: {size:,} bytes, {size / int(sys.argv[3]):.0f} bytes per document")
PY
done

#!/usr/bin/env bash
# Peak memory and time on pathological inputs: one 100 MB document, a million identical
# documents (one giant cluster), a million tiny distinct documents, a million lines of
# which every other one is malformed, 100,000 identical articles through `index add`
# (with the index directory's bytes per document), `index clusters`, `stories` and
# `cluster`, and 200,000 articles of random words (every story term rare) through
# `stories` and `dedup`. Prints one line per case.
#
#   bash benches/pathological.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-target/pathological}
mkdir -p "$work"
cargo build --release --locked -q -p storyhash-cli
bin=target/release/storyhash

python3 - "$work" <<'PY'
import json, os, random, sys
work = sys.argv[1]
random.seed(1)
words = [f"w{i}" for i in range(50000)]
with open(os.path.join(work, "huge.jsonl"), "w") as f:
    text = " ".join(random.choice(words) for _ in range(17_000_000))[:100_000_000]
    f.write(json.dumps({"id": "huge", "text": text}) + "\n")
    f.write(json.dumps({"id": "small", "text": "a small companion document"}) + "\n")
article = " ".join(random.choice(words) for _ in range(450))
with open(os.path.join(work, "identical.jsonl"), "w") as f:
    for i in range(1_000_000):
        f.write(json.dumps({"id": i, "text": article}) + "\n")
with open(os.path.join(work, "identical-100k.jsonl"), "w") as f:
    for i in range(100_000):
        f.write(json.dumps({"id": i, "text": article}) + "\n")
with open(os.path.join(work, "tiny.jsonl"), "w") as f:
    for i in range(1_000_000):
        f.write(json.dumps({"id": i, "text": f"note {i} {random.choice(words)}"}) + "\n")
with open(os.path.join(work, "half-bad.jsonl"), "w") as f:
    for i in range(1_000_000):
        f.write(json.dumps({"id": i, "text": f"entry {i}"}) + "\n" if i % 2 else "{not json\n")
# The story candidate rule's worst case: every term rare (each of 50,000 words in about
# 0.2% of the articles) and every posting list full, each article from its own site.
letters = "abcdefghij"
vocabulary = ["".join(random.choice(letters) for _ in range(6)) for _ in range(50000)]
with open(os.path.join(work, "rare-terms.jsonl"), "w") as f:
    for i in range(200_000):
        lines = [" ".join(random.choice(vocabulary) for _ in range(12)) + "." for _ in range(8)]
        f.write(json.dumps({"id": str(i), "url": f"https://site{i}.example/a/{i}",
                            "text": "\n".join(lines)}) + "\n")
PY

measure() {
    local name=$1; shift
    python3 - "$name" "$@" <<'PY'
import resource, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
start = time.time()
proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
print(f"{name}: exit {proc.returncode}, {time.time() - start:.1f} s, peak RSS {rss:.0f} MiB | {last}")
PY
}

measure "one 100 MB document (dedup)" "$bin" dedup --quiet --max-doc-bytes 200000000 "$work/huge.jsonl" -o "$work/out.jsonl"
measure "one 100 MB document (cluster)" "$bin" cluster --max-doc-bytes 200000000 "$work/huge.jsonl" -o "$work/out.txt"
measure "one 100 MB document over the default 64 MiB limit" "$bin" dedup --quiet "$work/huge.jsonl" -o "$work/out.jsonl"
measure "1M identical documents" "$bin" dedup --quiet "$work/identical.jsonl" -o "$work/out.jsonl" --summary "$work/identical-summary.json"
measure "1M tiny distinct documents" "$bin" dedup --quiet "$work/tiny.jsonl" -o "$work/out.jsonl"
measure "1M lines, half malformed" "$bin" dedup --quiet "$work/half-bad.jsonl" -o "$work/out.jsonl"
rm -rf "$work/identical.idx"
"$bin" index create "$work/identical.idx" >/dev/null
measure "100k identical documents (index add)" "$bin" index add --quiet "$work/identical.idx" "$work/identical-100k.jsonl"
python3 -c "import os, sys; b = sum(e.stat().st_size for e in os.scandir(sys.argv[1])); print(f'  index directory: {b} bytes, {b / 100_000:.0f} bytes per document')" "$work/identical.idx"
measure "100k identical documents (index clusters)" "$bin" index clusters --format json "$work/identical.idx" -o "$work/out.json"
measure "100k identical documents (stories)" "$bin" stories "$work/identical-100k.jsonl" -o "$work/out.txt"
measure "100k identical documents (cluster)" "$bin" cluster "$work/identical-100k.jsonl" -o "$work/out.txt"
measure "100k identical documents (dedup)" "$bin" dedup --quiet "$work/identical-100k.jsonl" -o "$work/out.jsonl"
measure "200k articles, every term rare, one site each (stories)" "$bin" stories "$work/rare-terms.jsonl" -o "$work/out.txt"
measure "200k articles, every term rare, one site each (dedup)" "$bin" dedup --quiet "$work/rare-terms.jsonl" -o "$work/out.jsonl"

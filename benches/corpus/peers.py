"""Peers on the storyhash corpus benchmark: datasketch and rensa, one per process.

Usage: python peers.py TOOL CORPUS.jsonl OUT_PAIRS.jsonl

TOOL is datasketch or rensa. Both get what their users give them: Python-side
tokenization (lowercase, \\w+ words) into word 5-gram shingles, 128 permutations, LSH
at threshold 0.5 with 32 bands x 4 rows (the peers' reference configuration), and
candidates verified by the estimated Jaccard >= THRESHOLD. Prints one JSON object of
timings; writes the pairs it declares similar.
"""

import json
import re
import sys
import time

THRESHOLD = 0.4
NUM_PERM = 128
WORD = re.compile(r"\w+")


def shingles(text, n=5):
    words = WORD.findall(text.lower())
    if len(words) < n:
        return [" ".join(words)] if words else []
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def main():
    tool, corpus, out_path = sys.argv[1:4]
    ids, texts = [], []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            ids.append(record["id"])
            texts.append(record["text"])
    timings = {"docs": len(ids)}
    start = time.perf_counter()
    cpu = time.process_time()
    sets = [set(shingles(t)) for t in texts]
    timings["shingle_s"] = time.perf_counter() - start
    pairs = []
    if tool == "datasketch":
        from datasketch import MinHash, MinHashLSH

        t = time.perf_counter()
        sigs = []
        for s in sets:
            m = MinHash(num_perm=NUM_PERM, seed=1)
            m.update_batch([x.encode("utf-8") for x in s])
            sigs.append(m)
        timings["sign_s"] = time.perf_counter() - t
        t = time.perf_counter()
        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=(0.1, 0.9))
        for i, m in enumerate(sigs):
            lsh.insert(i, m)
        for i, m in enumerate(sigs):
            for j in lsh.query(m):
                if j > i and m.jaccard(sigs[j]) >= THRESHOLD:
                    pairs.append((i, j))
        timings["lsh_s"] = time.perf_counter() - t
    elif tool == "rensa":
        from rensa import RMinHash, RMinHashLSH

        t = time.perf_counter()
        sigs = RMinHash.from_token_sets([list(s) for s in sets], NUM_PERM, 1)
        timings["sign_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # rensa needs the band count to divide num_perm: 32 x 4, its reference setting.
        lsh = RMinHashLSH(THRESHOLD, NUM_PERM, 32)
        for i, m in enumerate(sigs):
            lsh.insert(i, m)
        for i, m in enumerate(sigs):
            for j in lsh.query(m):
                if j > i and m.jaccard(sigs[j]) >= THRESHOLD:
                    pairs.append((i, j))
        timings["lsh_s"] = time.perf_counter() - t
    else:
        raise SystemExit(f"unknown tool {tool}")
    timings["total_s"] = time.perf_counter() - start
    timings["cpu_s"] = time.process_time() - cpu
    with open(out_path, "w", encoding="utf-8") as out:
        for i, j in pairs:
            out.write(json.dumps({"a": ids[i], "b": ids[j]}) + "\n")
    print(json.dumps(timings))


if __name__ == "__main__":
    main()

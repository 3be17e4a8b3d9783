"""Scores pair files against exact-Jaccard ground truth.

Usage: python score.py CORPUS.jsonl TRUTH.jsonl THRESHOLD PAIRS.jsonl...

Ground truth: every pair with exact word 5-gram Jaccard >= THRESHOLD. All pairs of
documents sharing a planted label are computed exactly; any other pair a tool reports
is computed too, so a true pair across labels is never missed as truth.
"""

import itertools
import json
import re
import sys

WORD = re.compile(r"\w+")


def shingles(text, n=5):
    words = WORD.findall(text.lower())
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a, b):
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def main():
    corpus, truth_path, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    texts = {}
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts[r["id"]] = r["text"]
    labels = {}
    with open(truth_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            labels.setdefault(r["label"], []).append(r["id"])
    cache = {}

    def sets(i):
        if i not in cache:
            cache[i] = shingles(texts[i])
        return cache[i]

    truth = set()
    for members in labels.values():
        for a, b in itertools.combinations(sorted(members), 2):
            if jaccard(sets(a), sets(b)) >= threshold:
                truth.add((a, b))
    reported = {}
    for path in sys.argv[4:]:
        pairs = set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                pairs.add(tuple(sorted((r["a"], r["b"]))))
        reported[path] = pairs
        for pair in pairs - truth:
            if jaccard(sets(pair[0]), sets(pair[1])) >= threshold:
                truth.add(pair)
    result = {"true_pairs": len(truth)}
    for path, pairs in reported.items():
        hit = len(pairs & truth)
        result[path] = {
            "pairs": len(pairs),
            "precision": hit / len(pairs) if pairs else 1.0,
            "recall": hit / len(truth) if truth else 1.0,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""The corpus benchmark's results as one table, from the files run.sh leaves behind.

Usage: python table.py WORK_DIR ROUNDS

Reads storyhash's per-round summaries (the fastest round per thread count counts), the
peers' timings, every tool's peak RSS, the quality scores and the single-core kernels;
prints a Markdown table (docs/s, docs/s per core, peak RSS, pairs, precision, recall)
and the ratios the targets are stated in.
"""

import json
import os
import sys


def last_rss(path):
    """The "rss_mb N" line that run.sh's peak_rss appends to a tool's output."""
    with open(path) as f:
        values = [int(line.split()[1]) for line in f if line.startswith("rss_mb ")]
    return values[-1]


def main():
    work, rounds = sys.argv[1], int(sys.argv[2])
    quality = json.load(open(os.path.join(work, "quality.json")))
    kernels = json.load(open(os.path.join(work, "kernels.json")))

    def scores(tool):
        return quality[os.path.join(work, f"pairs-{tool}.jsonl")]

    rows = []

    def storyhash_rows(label, summary_prefix, rss_prefix, score):
        """One row per thread count from the fastest of its rounds; their docs/s."""
        best = {}
        for threads in (1, 2):
            runs = [json.load(open(os.path.join(work, f"{summary_prefix}-{threads}-{r}.json")))
                    for r in range(1, rounds + 1)]
            per_round = [s["records"] / sum(s["seconds"].values()) for s in runs]
            fastest = runs[per_round.index(max(per_round))]
            best[threads] = max(per_round)
            print(f"{label}, {threads} thread(s): docs/s per round "
                  f"{[round(d) for d in per_round]}; stages of the fastest {fastest['seconds']}")
            rss = last_rss(os.path.join(work, f"{rss_prefix}-{threads}.txt"))
            rows.append((label, threads, best[threads], rss, score))
        return best

    best = storyhash_rows("storyhash dedup", "summary", "rss-storyhash", scores("storyhash"))
    peers = {}
    for tool in ("datasketch", "rensa"):
        path = os.path.join(work, f"peer-{tool}.txt")
        with open(path) as f:
            timings = json.loads(f.readline())
        peers[tool] = timings
        docs_per_s = timings["docs"] / timings["total_s"]
        rows.append((tool, 1, docs_per_s, last_rss(path), scores(tool)))
    scripts = {}
    for script, label in (("arabic", "Arabic corpus"), ("accented", "accented Latin"),
                          ("cyrillic", "Cyrillic"), ("devanagari", "Devanagari"),
                          ("hangul", "Hangul")):
        quality_path = os.path.join(work, f"quality-{script}.json")
        if os.path.exists(quality_path):
            score = json.load(open(quality_path))[os.path.join(work, f"pairs-{script}.jsonl")]
            scripts[label] = storyhash_rows(f"storyhash dedup, {label}",
                                            f"{script}-summary", f"rss-{script}", score)

    print()
    print("| tool | threads | docs/s | docs/s per core | peak RSS | pairs | precision | recall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for tool, threads, docs_per_s, rss, score in rows:
        print(f"| {tool} | {threads} | {docs_per_s:,.0f} | {docs_per_s / threads:,.0f} | "
              f"{rss:,} MiB | {score['pairs']:,} | {score['precision']:.4f} | {score['recall']:.4f} |")

    datasketch = peers["datasketch"]["docs"] / peers["datasketch"]["total_s"]
    rensa = peers["rensa"]["docs"] / peers["rensa"]["total_s"]
    rensa_signing = peers["rensa"]["docs"] / peers["rensa"]["sign_s"]
    print()
    print(f"storyhash per core / datasketch: {best[1] / datasketch:.0f}x; "
          f"both cores / datasketch: {best[2] / datasketch:.0f}x; "
          f"per core / rensa: {best[1] / rensa:.1f}x")
    print(f"2 threads / 1 thread: {best[2] / best[1]:.2f}")
    print(f"OPH signing / rensa signing, per core: "
          f"{kernels['oph_sign_docs_per_s'] / rensa_signing:.0f}x "
          f"(analysis and signing from raw text: "
          f"{kernels['analyze_and_oph_sign_docs_per_s'] / rensa_signing:.0f}x)")
    print(f"end to end per core as a fraction of one xxh3 pass: "
          f"{best[1] / kernels['xxh3_docs_per_s']:.3f}")
    for label, rates in scripts.items():
        print(f"{label}: 2 threads / 1 thread: {rates[2] / rates[1]:.2f}; "
              f"per core / the Latin corpus: {rates[1] / best[1]:.2f}")


if __name__ == "__main__":
    main()

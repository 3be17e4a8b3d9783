"""Article extraction on real news pages: storyhash's text, title and publication time of
each page beside the reference the newspaper4k project tests its own extractor against
(its sdist's tests/data: saved pages of CNN, Time, Wired, Fox 13, cleveland.com,
Yonhap, CNN Arabic, BBC Chinese, Xinhua, Nikkei, AFP, LSM and others, each with the
article's text in txt/ and, for most, its title and time in metadata/).

Text is scored by words, as extraction benchmarks do: the multiset of lowercased runs of
word characters (each character a word in scripts written without spaces: Chinese,
Japanese kana, Thai, Lao, Khmer, Burmese) of storyhash's text against the reference's:
precision, recall and F1 per page, averaged over the pages. A title counts as the
reference's when equal after white space is collapsed; a time as agreeing when within a
day of the reference's (which newspaper4k often gives as a date alone).

Usage: python3 extract.py STORYHASH NEWSPAPER_TESTS_DATA OUT_MARKDOWN
"""

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone

# Scripts written without spaces between words.
UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff"
                      r"\u3400-\u9fff\uf900-\ufaff]")


def words(text):
    out = Counter()
    for run in re.findall(r"\w+", text.lower()):
        if UNSPACED.search(run):
            out.update(run)
        else:
            out[run] += 1
    return out


def script(text):
    """The main script of a text: arabic, latin or other."""
    letters = [c for c in text if c.isalpha()]
    arabic = sum("\u0600" <= c <= "\u06ff" for c in letters)
    latin = sum(c.isascii() or "\u00c0" <= c <= "\u024f" for c in letters)
    if arabic > len(letters) / 2:
        return "arabic"
    return "latin" if latin > len(letters) / 2 else "other"


def when(value):
    """Unix seconds of an ISO 8601 time or date (UTC when it gives no offset)."""
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()


def storyhash_article(binary, page):
    """The record `storyhash dedup` writes for one page, with the time it read."""
    out = subprocess.run([binary, "dedup", "--quiet", page],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[0]) if out.strip() else {"text": ""}


def storyhash_time(binary, page):
    """The publication time storyhash reads from a page, as `stories` reports it."""
    out = subprocess.run([binary, "stories", "--quiet", "--format", "json", page],
                         check=True, capture_output=True, text=True).stdout
    stories = json.loads(out)["stories"]
    return stories[0].get("first_published") if stories else None


def main():
    binary, data, out = sys.argv[1:4]
    rows = []
    for name in sorted(os.listdir(f"{data}/html")):
        stem = name.rsplit(".", 1)[0]
        if not os.path.exists(f"{data}/txt/{stem}.txt"):
            continue
        page = f"{data}/html/{name}"
        with open(f"{data}/txt/{stem}.txt", encoding="utf-8") as f:
            reference = f.read()
        meta = {}
        if os.path.exists(f"{data}/metadata/{stem}.json"):
            with open(f"{data}/metadata/{stem}.json", encoding="utf-8") as f:
                meta = json.load(f)
        record = storyhash_article(binary, page)
        ours, theirs = words(record.get("text", "")), words(reference)
        common = sum((ours & theirs).values())
        precision = common / max(sum(ours.values()), 1)
        recall = common / max(sum(theirs.values()), 1)
        f1 = 2 * precision * recall / (precision + recall) if common else 0.0
        title = " ".join((meta.get("title") or "").split())
        time = meta.get("publish_date")
        found = storyhash_time(binary, page)
        agrees = (time is not None and found is not None
                  and abs(when(found) - when(time)) <= 86_400)
        rows.append({
            "page": stem, "script": script(reference), "p": precision, "r": recall,
            "f1": f1, "title": title,
            "title_same": bool(title) and " ".join(record.get("title", "").split()) == title,
            "time": time, "found": found, "agrees": agrees,
        })
        print(f"{stem}: P {precision:.3f} R {recall:.3f} F1 {f1:.3f} "
              f"title {'same' if rows[-1]['title_same'] else 'other'} "
              f"time {found} (reference {time})", flush=True)

    lines = [
        "| pages | articles | precision | recall | F1 | lowest F1 "
        "| titles as reference | times read | reference times | agreeing |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, chosen in (
        ("all", rows),
        ("Latin script", [r for r in rows if r["script"] == "latin"]),
        ("Arabic", [r for r in rows if r["script"] == "arabic"]),
        ("other scripts", [r for r in rows if r["script"] == "other"]),
    ):
        if not chosen:
            continue
        n = len(chosen)
        titled = [r for r in chosen if r["title"]]
        timed = [r for r in chosen if r["time"]]
        lines.append(
            f"| {label} | {n} | {sum(r['p'] for r in chosen) / n:.3f} "
            f"| {sum(r['r'] for r in chosen) / n:.3f} | {sum(r['f1'] for r in chosen) / n:.3f} "
            f"| {min(r['f1'] for r in chosen):.3f} "
            f"| {sum(r['title_same'] for r in titled)} of {len(titled)} "
            f"| {sum(r['found'] is not None for r in chosen)} of {n} "
            f"| {len(timed)} | {sum(r['agrees'] for r in timed)} of {len(timed)} |")
    table = "\n".join(lines) + "\n"
    with open(out, "w", encoding="utf-8") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()

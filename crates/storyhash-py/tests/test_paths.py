"""The Python functions give the CLI's answers on the same documents: clusters, kept ids
and Jaccard values, under every keep policy, on a corpus with near-duplicate families,
thousands of identical copies, titles and dates in the forms feeds use."""

import datetime
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

import storyhash

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "target" / "release" / "storyhash"

WORDS = [f"w{i}" for i in range(3000)]
DATE_FORMS = [
    "{iso}",
    "{rfc2822}",
    "{day}",
    "{epoch}",
]


def dated(n, rng):
    """A publication time in one of the forms feeds use, n hours after a base."""
    epoch = 1_740_787_200 + 3_600 * n
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    form = rng.choice(DATE_FORMS)
    return form.format(
        iso=t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        rfc2822=t.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        day=t.strftime("%Y-%m-%d"),
        epoch=epoch,
    )


def corpus():
    rng = random.Random(7)
    docs = []
    originals = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 300))) for _ in range(150)]
    for i, text in enumerate(originals):
        docs.append({"id": f"o{i}", "text": text, "published": dated(rng.randint(0, 9000), rng)})
        for c in range(rng.choice([0, 0, 1, 2])):
            words = text.split()
            for _ in range(max(1, len(words) // 40)):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            docs.append(
                {"id": f"o{i}-e{c}", "text": " ".join(words), "published": dated(rng.randint(0, 9000), rng)}
            )
        if i % 10 == 0:
            docs.append({"id": f"o{i}-retitled", "text": text, "title": "a long republished headline " * 20})
            docs.append({"id": f"o{i}-extended", "text": text + " and one closing sentence more"})
    wire = originals[0]
    for n in range(2000):
        docs.append({"id": f"wire{n}", "text": wire, "published": dated(5000 - n, rng)})
    rng.shuffle(docs)
    return docs


def cli_dedup(docs, keep, tmp_path):
    if not CLI.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CLI} is missing: CI builds it before the Python tests")
        pytest.skip(f"{CLI} is not built (cargo build --release -p storyhash-cli)")
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(d) + "\n" for d in docs))
    removed = tmp_path / f"removed-{keep}.jsonl"
    clusters = tmp_path / f"clusters-{keep}.jsonl"
    subprocess.run(
        [str(CLI), "dedup", "--quiet", str(feed), "--keep", keep,
         "--removed", str(removed), "--clusters", str(clusters), "-o", str(tmp_path / "kept.jsonl")],
        check=True,
    )
    gone = {}
    for line in removed.read_text().splitlines():
        r = json.loads(line)
        gone[r["id"]] = (r["duplicate_of"], round(r["jaccard"], 6))
    groups = {tuple(sorted(json.loads(l)["members"])) for l in clusters.read_text().splitlines()}
    return gone, groups


@pytest.mark.parametrize("keep", ["first", "longest", "earliest"])
def test_dedup_gives_the_cli_answers(keep, tmp_path):
    docs = corpus()
    expected_removed, expected_clusters = cli_dedup(docs, keep, tmp_path)
    kept, removed = storyhash.dedup(docs, keep=keep)
    got = {d: (k, round(j, 6)) for d, (k, j) in removed.items()}
    assert got == expected_removed
    assert set(kept) | set(removed) == {d["id"] for d in docs}
    clusters = {tuple(sorted(c)) for c in storyhash.cluster(docs) if len(c) > 1}
    assert clusters == expected_clusters


def test_an_unreadable_date_is_refused_by_name():
    docs = [{"id": "a", "text": "one two three four five six", "published": "2025-02-31"}]
    with pytest.raises(ValueError, match='"a".*2025-02-31'):
        storyhash.dedup(docs)
    index = storyhash.Index()
    with pytest.raises(ValueError, match="2025-02-31"):
        index.insert("a", "one two three four five six", published="2025-02-31")
    assert len(index) == 0

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


def cli_feed(docs, tmp_path, name):
    """`docs` written as JSONL for the CLI, which must be built (in CI it is)."""
    if not CLI.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CLI} is missing: CI builds it before the Python tests")
        pytest.skip(f"{CLI} is not built (cargo build --release -p storyhash-cli)")
    feed = tmp_path / name
    feed.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return feed


def cli_dedup(docs, keep, tmp_path):
    feed = cli_feed(docs, tmp_path, "feed.jsonl")
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


def story_corpus():
    """Rewrites of a few dated happenings (each its own names, figures and places), with
    copies and titles, in one beat: what `stories` groups."""
    rng = random.Random(11)
    filler = [f"f{i}" for i in range(400)]
    beat = ["minister", "talks", "agreement", "officials", "statement", "meeting"]
    docs = []
    for e in range(12):
        names = [f"name{e}x{k}" for k in range(6)]
        day = 1_740_787_200 + 86_400 * (e % 4) * 3
        for r in range(rng.randint(1, 5)):
            words = rng.sample(names, 4) + rng.sample(beat, 3) + rng.sample(filler, 25)
            rng.shuffle(words)
            doc = {"id": f"e{e}r{r}", "text": " ".join(words),
                   "published": dated((day - 1_740_787_200) // 3_600 + rng.randint(0, 30), rng)}
            if r % 2:
                doc["title"] = " ".join(rng.sample(names, 2) + ["talks"])
            docs.append(doc)
            if r == 0 and e % 3 == 0:
                docs.append(dict(doc, id=f"e{e}r{r}-copy"))
    rng.shuffle(docs)
    return docs


def cli_stories(docs, args, tmp_path):
    feed = cli_feed(docs, tmp_path, "stories.jsonl")
    out = subprocess.run([str(CLI), *args, "--quiet", "--format", "json", str(feed)],
                         check=True, capture_output=True)
    report = json.loads(out.stdout)
    return [([m for g in s["groups"] for m in g["members"]],
             [round(g["attached_with"], 6) for g in s["groups"] for _ in g["members"]])
            for s in report["stories"]]


@pytest.mark.parametrize("granularity", ["story", "event"])
def test_stories_give_the_cli_stories(granularity, tmp_path):
    docs = story_corpus()
    expected = cli_stories(docs, ["stories", "--granularity", granularity], tmp_path)
    assert len(expected) > 1 and max(len(m) for m, _ in expected) > 1
    got = [(list(c.members), [round(c.similarities[m], 6) for m in c.members])
           for c in storyhash.stories(docs, granularity)]
    assert got == expected


def test_cluster_with_the_story_preset_is_cluster_preset_story_of_the_cli(tmp_path):
    docs = story_corpus()
    expected = cli_stories(docs, ["cluster", "--preset", "story", "--threshold", "0.25"], tmp_path)
    got = [(list(c.members), [round(c.similarities[m], 6) for m in c.members])
           for c in storyhash.cluster(docs, preset="story", threshold=0.25)]
    assert got == expected
    with pytest.raises(ValueError, match="granularity"):
        storyhash.stories(docs, "weekly")


def story_background():
    """Sixty articles of the beat in which the names of the first happening are common
    words (in every one): counted with the input, they weigh nothing there."""
    rng = random.Random(12)
    filler = [f"g{i}" for i in range(400)]
    names = [f"name0x{k}" for k in range(6)]
    return [{"id": f"bg{i}", "text": " ".join(names + rng.sample(filler, 20))}
            for i in range(60)]


@pytest.mark.parametrize("granularity", ["story", "event"])
def test_a_background_of_documents_or_an_index_is_the_clis_background(granularity, tmp_path):
    docs, background = story_corpus(), story_background()
    feed = cli_feed(background, tmp_path, "background.jsonl")
    index = storyhash.Index(stories=granularity)
    index.insert_batch(background)
    index.save(str(tmp_path / "background.idx"))

    def stories(**keywords):
        return [(list(c.members), [round(c.similarities[m], 6) for m in c.members])
                for c in storyhash.stories(docs, granularity, **keywords)]

    for given in (feed, tmp_path / "background.idx"):
        expected = cli_stories(
            docs, ["stories", "--granularity", granularity, "--background", str(given)], tmp_path)
        assert stories(background=background) == expected
        assert stories(background=index) == expected
    # The first happening's names, common in the background, weigh less.
    explained = storyhash.explain_story(docs, "e0r0", "e0r1", granularity, background=iter(background))
    assert explained["cosine"] < storyhash.explain_story(docs, "e0r0", "e0r1", granularity)["cosine"]
    with pytest.raises(ValueError, match="does not track stories"):
        storyhash.stories(docs, background=storyhash.Index())
    with pytest.raises(ValueError, match="analysis"):
        storyhash.stories(docs, background=index, analysis="words")
    with pytest.raises(ValueError, match="analysis"):
        storyhash.stories(docs, analysis="lemmas")


@pytest.mark.parametrize("granularity", ["story", "event"])
def test_explain_story_gives_the_cli_explanation(granularity, tmp_path):
    docs = story_corpus()
    feed = cli_feed(docs, tmp_path, "explain.jsonl")
    # Two members of the largest story, and the first members of the two largest.
    largest, second = storyhash.stories(docs, granularity)[:2]
    assert len(largest.members) > 1
    pairs = [(largest.members[:2], True), ((largest.members[0], second.members[0]), False)]
    for (a, b), together in pairs:
        out = subprocess.run([str(CLI), "explain", a, b, "--granularity", granularity,
                              "--quiet", "--format", "json", str(feed)],
                             check=True, capture_output=True)
        explanation = storyhash.explain_story(docs, a, b, granularity)
        assert explanation == json.loads(out.stdout)
        assert explanation["same_story"] == together
    with pytest.raises(ValueError, match="no document"):
        storyhash.explain_story(docs, "e1r0", "nowhere")

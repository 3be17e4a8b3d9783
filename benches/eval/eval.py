"""Story evaluation: `storyhash stories` beside a TF-IDF average-link baseline computed in
the same run, on real Reuters-21578 wire and on generated multi-event corpora.

Each set is a JSONL file whose records carry a label: an event (generated sets, scored
as stories should be) or a topic (Reuters, where no event labels exist: a story linking
two articles of different topics is wrong, while two articles of one topic need not be
one story, so only precision, the largest story and the linked pairs are reported).

Scores are pairwise over documents: precision and recall of "in one cluster" against
"same label", F1, adjusted Rand index, and misplaced documents (those outside the
majority label of their cluster).

The baseline: each document's title and text, lowercased words of two or more
characters, sublinear tf (1 + ln count) times smoothed idf ln((1 + N) / (1 + df)) + 1,
unit length; exact agglomerative average link on cosine distance (scipy), cut at the
same threshold as storyhash (mean cosine), pairs further apart in time than the
granularity's window at distance 1. "tuned" is the baseline at the threshold, on a grid
of 0.05 to 0.60, that scores best on the set's own labels: an oracle no user has.

Human ratings (KIND `human`: the Lee corpus, see lee.py): the set's pairs carry people's
mean similarity ratings (`lee-similarities.txt` beside it) instead of labels. Reported
per granularity, with and without the 300 background articles (`lee-background.jsonl`,
whose terms count towards idf for both methods): how many of the pairs rated at least
0.9 ("the same story" to nearly every rater) end up in one cluster, how many pairs are
linked, and the share of those rated at least 0.6, the middle of the 1-to-5 scale
("related"). And how pairs rank against the ratings, over all pairs (Lee: 1,225):
Pearson's r and Spearman's rho between the ratings and each method's cosine of the pair
(storyhash's from `explain --granularity story --format json`: its weighted term
vectors, the same at both granularities).

Topic sets (KIND `topics`: the whole dated Reuters collection, each article with its
list of topics, or none): precision is the share of linked pairs of topic-carrying
articles that share a topic.

Company agreement (topic sets): topics are broad (`earn` holds every company's results),
so two reports of one topic can be two companies' news. The wire marks the companies it
names in angle brackets (`<SRD>`, `<Saab-Scania AB>`); of the linked pairs of articles
that both mark some, the share marking one in common. Stricter than topic precision,
and noisy both ways: one company under its ticker and its name counts as two, and a
story about a market names several. Its other side, company recall: of the pairs of
articles marking one company in common (each marking at most two, so that market
roundups stay out), sharing a topic and published within the granularity's window, the
share linked. Not every such pair is one story (a company's results and its bond sale
the same week), so neither side reaches 1; read together they say whether a method
links a company's news without linking other companies'.

Input order (sets without dates): the stories of undated articles should not depend on
their order, so the set as given and three seeded shuffles of it are clustered at
`story`; reported are the ranges of linked pairs and precision, and of the Jaccard
similarity between the linked pairs of any two orders (1 when every order gives the
same stories).

Index (a set named with `:index` after its name): the same documents added in file order
to a new story-tracking index (`index add`), which weighs each by the document
frequencies of those before it; scored as above, beside the share of its linked pairs
that `stories` links and the reverse. With `:index:EARLIER.jsonl`, also a new index
created with the articles EARLIER.jsonl lists before the set's first (the set being a
run of that file) as its background (`index create --background`), and an index that
first got those articles: the set's stories in an index that has run for a while.

Usage: python3 eval.py STORYHASH OUT_MARKDOWN SET.jsonl:KIND[:NAME[:index[:EARLIER.jsonl]]] ...
(KIND: event, topic, topics or human). `--sweep` prints storyhash's scores over thresholds
instead (and, on topic sets, the baseline's company agreement and recall).
`python3 eval.py STORYHASH --judge SET.jsonl` prints ten attachments per similarity band
at threshold 0.10 (a group's headline beside its story founder's), drawn with a fixed
seed, for reading. `python3 eval.py STORYHASH --judge-blind SET.jsonl LOW MIDDLE HIGH`
prints twenty attachments made at threshold LOW from each of [LOW, MIDDLE) and [MIDDLE,
HIGH), shuffled and without scores, then which band each came from.
"""

import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.stats import pearsonr, spearmanr

GRANULARITIES = ["story", "event"]
GRID = [round(0.05 * i, 2) for i in range(1, 13)]
# Human ratings: a pair rated at least SAME is one story to nearly every rater; one
# rated at least RELATED is at or above the middle of the scale.
SAME, RELATED = 0.9, 0.6


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def label_of(record, kind):
    if kind == "event":
        return record["label"]
    if "topic" in record:
        return record["topic"] or "(none)"
    return (record["grain"], record["corn"])


def timestamp(record):
    value = record.get("published")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def storyhash_clusters(binary, path, granularity, threshold=None, background=None):
    """Story number of each document by id, and the parameters the report states."""
    command = [binary, "stories", "--quiet", "--format", "json",
               "--granularity", granularity, path]
    if threshold is not None:
        command += ["--threshold", str(threshold)]
    if background is not None:
        command += ["--background", background]
    report = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
    story_of = {}
    for number, story in enumerate(report["stories"]):
        for group in story["groups"]:
            for member in group["members"]:
                story_of[member] = number
    return story_of, report["params"]


INDEX_RUNS = {None: "index", "background": "index, earlier articles as background",
              "added": "index, after earlier articles"}


def index_clusters(binary, path, granularity, earlier=None, how=None):
    """Story of each document by id when the documents arrive one by one, in file order,
    at a new story-tracking index (`index add`): each weighed by the document
    frequencies of those before it. With `earlier` (a set file holding `path`'s articles
    in order), the articles it lists before `path`'s first are the index's background
    (`how` "background") or are added first (`how` "added"), as an index that has run
    for a while."""
    with tempfile.TemporaryDirectory() as work:
        index = f"{work}/eval.idx"
        create = [binary, "index", "create", index, "--stories", granularity]
        if how is not None:
            first = load(path)[0]["id"]
            with open(earlier, encoding="utf-8") as f, \
                    open(f"{work}/earlier.jsonl", "w", encoding="utf-8") as out:
                for line in f:
                    if line.strip() and json.loads(line)["id"] == first:
                        break
                    out.write(line)
        if how == "background":
            create += ["--background", f"{work}/earlier.jsonl"]
        subprocess.run(create, check=True, capture_output=True)
        if how == "added":
            subprocess.run([binary, "index", "add", "--quiet", index, f"{work}/earlier.jsonl"],
                           check=True, capture_output=True)
        added = subprocess.run([binary, "index", "add", "--quiet", "--format", "json", index,
                                path], check=True, capture_output=True).stdout
    answers = map(json.loads, added.splitlines())
    return {d["id"]: d["story"] for d in answers if "skipped" not in d}


def agreement(first, second):
    """Of the pairs `first` links, the share `second` links too, and the reverse."""
    both = pairs_within(list(zip(first, second)))
    return both / max(pairs_within(first), 1), both / max(pairs_within(second), 1)


def tfidf(records, background=()):
    """Unit TF-IDF rows of `records`; idf counts `background` records too."""
    counts = [Counter(re.findall(r"\w\w+", f"{r.get('title') or ''} {r['text']}".lower()))
              for r in list(records) + list(background)]
    vocabulary = {}
    rows, cols, values = [], [], []
    for i, c in enumerate(counts):
        for term, n in c.items():
            rows.append(i)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
            values.append(1.0 + np.log(n))
    x = csr_matrix((values, (rows, cols)), shape=(len(counts), len(vocabulary)))
    df = np.bincount(x.indices, minlength=len(vocabulary))
    x = x.multiply(np.log((1 + len(counts)) / (1 + df)) + 1).tocsr()[: len(records)]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return csr_matrix(x.multiply(1 / norms[:, None]))


def baseline_linkage(x, times, window):
    """Average-link merges of the rows of `x` on cosine distance, pairs further apart in
    time than `window` at distance 1. The condensed distance matrix is filled a block of
    rows at a time: on the 20,840 dated Reuters articles the whole similarity matrix at
    once, sparse, held about 13 GB."""
    n = x.shape[0]
    known = np.array([t is not None for t in times])
    t = np.array([t if t is not None else 0 for t in times], dtype=float)
    condensed = np.empty(n * (n - 1) // 2)
    start = 0
    for first in range(0, n, 1024):
        last = min(first + 1024, n)
        similarity = (x[first:last] @ x.T).toarray()
        apart = (np.abs(t[first:last, None] - t[None, :]) > window) \
            & known[first:last, None] & known[None, :]
        similarity[apart] = 0
        for i in range(first, last):
            row = similarity[i - first, i + 1:]
            condensed[start:start + len(row)] = np.clip(1 - row, 0, 1)
            start += len(row)
    return linkage(condensed, "average")


def baseline_clusters(z, threshold):
    return list(fcluster(z, t=1 - threshold + 1e-9, criterion="distance"))


def pairs_within(assignment):
    return sum(n * (n - 1) // 2 for n in Counter(assignment).values())


def scores(predicted, truth):
    n = len(truth)
    both = Counter(zip(predicted, truth))
    together_both = sum(c * (c - 1) // 2 for c in both.values())
    together_predicted = pairs_within(predicted)
    together_truth = pairs_within(truth)
    precision = together_both / together_predicted if together_predicted else 1.0
    recall = together_both / together_truth if together_truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = n * (n - 1) // 2
    expected = together_predicted * together_truth / total if total else 0
    top = (together_predicted + together_truth) / 2
    ari = (together_both - expected) / (top - expected) if top != expected else 1.0
    majority = Counter()
    for (p, _), c in both.items():
        majority[p] = max(majority[p], c)
    sizes = Counter(predicted)
    misplaced = sum(sizes[p] - majority[p] for p in sizes)
    return {
        "clusters": len(sizes), "largest": max(sizes.values()), "pairs": together_predicted,
        "precision": precision, "recall": recall, "f1": f1, "ari": ari, "misplaced": misplaced,
    }


def agreeing_pairs(predicted, labels):
    """Of the pairs of documents in one cluster that both carry labels (each a set, empty
    for none), how many there are and how many share a label."""
    members = {}
    for cluster, own in zip(predicted, labels):
        if own:
            members.setdefault(cluster, []).append(own)
    both = agreeing = 0
    for sets in members.values():
        for i, a in enumerate(sets):
            for b in sets[i + 1:]:
                both += 1
                agreeing += not a.isdisjoint(b)
    return both, agreeing


def topic_scores(predicted, topics):
    """Scores against topic sets (KIND `topics`): precision is the share of the linked
    pairs of articles that both carry topics in which the two share one; articles
    without topics count only towards the clusters, the largest and the linked pairs."""
    sizes = Counter(predicted)
    labelled, agreeing = agreeing_pairs(predicted, [frozenset(t) for t in topics])
    return {
        "clusters": len(sizes), "largest": max(sizes.values()),
        "pairs": pairs_within(predicted),
        "precision": agreeing / labelled if labelled else 1.0, "misplaced": "—",
    }


def companies(record):
    """The companies an article marks (`<...>` in its title and text), lowercased, spaces
    collapsed."""
    text = f"{record.get('title') or ''} {record['text']}"
    marked = re.findall(r"<([^<>]{2,60})>", text)
    return frozenset(re.sub(r"\s+", " ", m.lower()) for m in marked)


def same_company_pairs(marked, topics, times, window):
    """The pairs company recall counts (see the module doc): articles marking one company
    in common, each marking at most two, sharing a topic, at most `window` seconds apart
    (or either undated)."""
    marking = {}
    for i, own in enumerate(marked):
        if len(own) <= 2:
            for company in own:
                marking.setdefault(company, []).append(i)
    pairs = set()
    for members in marking.values():
        for k, a in enumerate(members):
            for b in members[k + 1:]:
                near = times[a] is None or times[b] is None or abs(times[a] - times[b]) <= window
                if near and not set(topics[a]).isdisjoint(topics[b]):
                    pairs.add((a, b))
    return pairs


def company_scores(predicted, marked, same_company):
    """Company agreement and company recall (see the module doc) of a clustering."""
    both, common = agreeing_pairs(predicted, marked)
    linked = sum(predicted[a] == predicted[b] for a, b in same_company)
    return common / max(both, 1), linked / max(len(same_company), 1), both, common, linked


def company_row(name, granularity, method, predicted, marked, same_company):
    """The company agreement and recall row (see the module doc) of a clustering."""
    share, recall, both, common, linked = company_scores(predicted, marked, same_company)
    return (f"| {name} | {granularity} | {method} | {both} | {common} ({share:.3f}) | "
            f"{linked} of {len(same_company)} ({recall:.3f}) |")


def linked_pairs(assignment):
    """The pairs of positions a clustering puts in one cluster."""
    members = {}
    for i, cluster in enumerate(assignment):
        members.setdefault(cluster, []).append(i)
    return {(a, b) for m in members.values() for k, a in enumerate(m) for b in m[k + 1:]}


def order_row(binary, records, name, truth, score, shuffles=3):
    """The input-order row (see the module doc) of an undated set."""
    ids = [r["id"] for r in records]
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for seed in range(shuffles + 1):
            shuffled = list(records)
            if seed:
                random.Random(seed).shuffle(shuffled)
            path = f"{work}/order-{seed}.jsonl"
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in shuffled)
            story_of, _ = storyhash_clusters(binary, path, "story")
            runs.append([story_of[i] for i in ids])
    measured = [score(run, truth) for run in runs]
    linked = [linked_pairs(run) for run in runs]
    jaccard = [len(a & b) / max(len(a | b), 1)
               for k, a in enumerate(linked) for b in linked[k + 1:]]

    def span(values, form):
        return f"{form.format(min(values))}–{form.format(max(values))}"
    return (f"| {name} | file + {shuffles} shuffles | "
            f"{span([m['pairs'] for m in measured], '{}')} | "
            f"{span([m['precision'] for m in measured], '{:.3f}')} | "
            f"{span(jaccard, '{:.3f}')} |")


def row(name, kind, granularity, method, s):
    if kind == "event":
        measured = (f"{s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                    f"{s['ari']:.3f} | {s['misplaced']}")
    else:
        measured = f"{s['precision']:.3f} | — | — | — | {s['misplaced']}"
    return (f"| {name} | {granularity} | {method} | {s['clusters']} | {s['largest']} | "
            f"{s['pairs']} | {measured} |")


def storyhash_cosine(binary, path, a, b, background=None):
    """The cosine of documents `a` and `b`'s story vectors (ids), as `explain` gives it."""
    command = [binary, "explain", "--granularity", "story", "--format", "json", a, b, path]
    if background is not None:
        command += ["--background", background]
    report = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
    return report["cosine"]


def human_rows(binary, path, name):
    """Rows of the human-ratings tables for the set at `path` (see the module doc): the
    clusters' agreement with the ratings, and how pairs rank against them."""
    folder = path.rsplit("/", 1)[0] if "/" in path else "."
    background_path = f"{folder}/lee-background.jsonl"
    ratings = np.loadtxt(f"{folder}/lee-similarities.txt")
    records, background = load(path), load(background_path)
    ids = [r["id"] for r in records]
    upper = [(i, j) for i in range(len(ids)) for j in range(i + 1, len(ids))]
    same = [(i, j) for i, j in upper if ratings[i, j] >= SAME]
    times = [None] * len(records)
    lines, ranks = [], []
    rated = [ratings[i, j] for i, j in upper]
    for with_background in (False, True):
        chosen = background_path if with_background else None
        # One `explain` per pair, two at a time (each runs the story engine on the set).
        with ThreadPoolExecutor(2) as pool:
            ours = list(pool.map(lambda p: storyhash_cosine(
                binary, path, ids[p[0]], ids[p[1]], chosen), upper))
        x = tfidf(records, background if with_background else ())
        similarity = (x @ x.T).toarray()
        theirs = [similarity[i, j] for i, j in upper]
        for method, cosine in (("storyhash", ours), ("TF-IDF cosine", theirs)):
            ranks.append(
                f"| {name} | {'300 articles' if with_background else 'none'} | {method} "
                f"| {pearsonr(cosine, rated)[0]:.3f} | {spearmanr(cosine, rated)[0]:.3f} |")
            print(ranks[-1], flush=True)
    for granularity in GRANULARITIES:
        for with_background in (False, True):
            story_of, params = storyhash_clusters(
                binary, path, granularity, background=background_path if with_background else None)
            threshold = params["threshold"]
            z = baseline_linkage(tfidf(records, background if with_background else ()),
                                 times, params["window_seconds"])
            for method, cluster in (
                ("storyhash", [story_of[i] for i in ids]),
                (f"TF-IDF avg link {threshold}", baseline_clusters(z, threshold)),
            ):
                linked = [(i, j) for i, j in upper if cluster[i] == cluster[j]]
                joined = sum(cluster[i] == cluster[j] for i, j in same)
                related = sum(ratings[i, j] >= RELATED for i, j in linked)
                share = f"{related / len(linked):.2f}" if linked else "—"
                lines.append(
                    f"| {name} | {granularity} | {'300 articles' if with_background else 'none'} "
                    f"| {method} | {joined} of {len(same)} | {len(linked)} | {share} |")
                print(lines[-1], flush=True)
    return lines, ranks


def judge(binary, path):
    command = [binary, "stories", "--quiet", "--format", "json", "--threshold", "0.1", path]
    report = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
    bands = {}
    edges = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]
    for story in report["stories"]:
        founder = story["groups"][0]["headline"]
        for group in story["groups"][1:]:
            score = group["attached_with"]
            for low, high in zip(edges, edges[1:]):
                if low <= score < high:
                    bands.setdefault(low, []).append((score, founder, group["headline"]))
    rng = random.Random(1)
    for low in sorted(bands):
        print(f"== from {low:.2f}: {len(bands[low])} attachments")
        for score, founder, headline in rng.sample(bands[low], min(10, len(bands[low]))):
            print(f"{score:.2f} | {founder[:70]} || {headline[:70]}")


def judge_blind(binary, path, low, middle, high, per_band=20):
    """Attachments made at threshold `low`: `per_band` drawn from [low, middle) and as
    many from [middle, high), shuffled together and printed without their scores (a
    group's headline after the last three of its story's before it), then the key: which
    band each number came from. Reading them without knowing the band, one judges
    whether a threshold of `low` adds links as good as those just above `middle`."""
    command = [binary, "stories", "--quiet", "--format", "json", "--threshold", str(low), path]
    report = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
    below, above = [], []
    for story in report["stories"]:
        headlines = [g["headline"] for g in story["groups"]]
        for k, group in enumerate(story["groups"][1:], 1):
            item = (group["attached_with"], headlines[max(0, k - 3):k], group["headline"])
            if item[0] < middle:
                below.append(item)
            elif item[0] < high:
                above.append(item)
    rng = random.Random(7)
    drawn = rng.sample(below, min(per_band, len(below))) + \
        rng.sample(above, min(per_band, len(above)))
    rng.shuffle(drawn)
    print(f"{len(below)} attachments in [{low}, {middle}), {len(above)} in [{middle}, {high})")
    for number, (_, before, headline) in enumerate(drawn):
        print(f"{number:2} | {' / '.join(h[:50] for h in before)} || {headline[:70]}")
    print("key:", " ".join(f"{n}:{'below' if s < middle else 'above'}"
                           for n, (s, _, _) in enumerate(drawn)))


def main():
    args = sys.argv[1:]
    if "--judge" in args:
        judge(args[0], args[2])
        return
    if "--judge-blind" in args:
        judge_blind(args[0], args[2], *map(float, args[3:6]))
        return
    sweep = "--sweep" in args
    args = [a for a in args if a != "--sweep"]
    binary, out, sets = args[0], args[1], args[2:]
    lines = [
        "| set | granularity | method | clusters | largest | linked pairs | precision "
        "| recall | F1 | ARI | misplaced |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    human = [
        "| set | granularity | background | method | rated same, joined | linked pairs "
        f"| linked rated ≥ {RELATED} |",
        "| --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    rank = [
        "| set | background | method | Pearson r | Spearman rho |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    index_lines = [
        "| set | granularity | method | clusters | largest | linked pairs | precision | F1 "
        "| its pairs in `stories` | `stories`' in it |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    company_lines = [
        "| set | granularity | method | linked pairs both marking companies | of them, marking "
        "one in common | pairs marking one company, linked |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    order_lines = [
        "| set | orders | linked pairs | precision | linked pairs' Jaccard, any two orders |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for spec in sets:
        path, kind, *rest = spec.split(":")
        name = rest[0] if rest else path
        # The indexes a set is added to: `:index`, a new one; `:index:EARLIER.jsonl`, also
        # one with the articles before it in that file as its background, and one that
        # first got them.
        index_runs = ([None] + [how for how in ("background", "added") if rest[2:3]]
                      if rest[1:2] == ["index"] else [])
        earlier = rest[2] if rest[2:3] else None
        if kind == "human":
            if not sweep:
                clustered, ranked = human_rows(binary, path, name)
                human += clustered
                rank += ranked
            continue
        records = load(path)
        truth = ([r["topics"] for r in records] if kind == "topics"
                 else [label_of(r, kind) for r in records])
        score = topic_scores if kind == "topics" else scores
        ids = [r["id"] for r in records]
        times = [timestamp(r) for r in records]
        marked = [companies(r) for r in records] if kind == "topics" else None
        x = tfidf(records)
        if not sweep and not any(times):
            order_lines.append(order_row(binary, records, name, truth, score))
            print(order_lines[-1], flush=True)
        for granularity in GRANULARITIES:
            story_of, params = storyhash_clusters(binary, path, granularity)
            threshold, window = params["threshold"], params["window_seconds"]
            if marked:
                same_company = same_company_pairs(marked, truth, times, window)
            if sweep:
                for t in GRID:
                    story_of, _ = storyhash_clusters(binary, path, granularity, t)
                    predicted = [story_of[i] for i in ids]
                    s = score(predicted, truth)
                    recall = (f"R {s['recall']:.3f} F1 {s['f1']:.3f} " if "f1" in s else "")
                    if marked:
                        share, found, *_ = company_scores(predicted, marked, same_company)
                        recall += f"company agreement {share:.3f} recall {found:.3f} "
                    print(f"{name} {granularity} {t:.2f}: P {s['precision']:.3f} {recall}"
                          f"largest {s['largest']} clusters {s['clusters']} "
                          f"linked {s['pairs']}", flush=True)
                if marked:
                    z = baseline_linkage(x, times, window)
                    for t in GRID:
                        share, found, *_ = company_scores(
                            baseline_clusters(z, t), marked, same_company)
                        print(f"{name} {granularity} {t:.2f}: TF-IDF avg link company "
                              f"agreement {share:.3f} recall {found:.3f}", flush=True)
                continue
            ours = score([story_of[i] for i in ids], truth)
            lines.append(row(name, kind, granularity, "storyhash", ours))
            if marked:
                company_lines.append(company_row(
                    name, granularity, "storyhash", [story_of[i] for i in ids], marked,
                    same_company))
            for how in index_runs:
                index_of = index_clusters(binary, path, granularity, earlier, how)
                arrived = [index_of[i] for i in ids]
                s = score(arrived, truth)
                f1 = f"{s['f1']:.3f}" if "f1" in s else "—"
                shares = agreement(arrived, [story_of[i] for i in ids])
                method = INDEX_RUNS[how]
                index_lines.append(
                    f"| {name} | {granularity} | {method} | {s['clusters']} | "
                    f"{s['largest']} | {s['pairs']} | {s['precision']:.3f} | {f1} | "
                    f"{shares[0]:.3f} | {shares[1]:.3f} |")
                print(index_lines[-1], flush=True)
                if marked:
                    company_lines.append(
                        company_row(name, granularity, method, arrived, marked, same_company))
            z = baseline_linkage(x, times, window)
            chosen = baseline_clusters(z, threshold)
            same = score(chosen, truth)
            lines.append(row(name, kind, granularity, f"TF-IDF avg link {threshold}", same))
            if marked:
                company_lines.append(company_row(
                    name, granularity, f"TF-IDF avg link {threshold}", chosen, marked,
                    same_company))
            if kind == "event":
                tuned = max(GRID, key=lambda t: scores(baseline_clusters(z, t), truth)["f1"])
                s = scores(baseline_clusters(z, tuned), truth)
                lines.append(row(name, kind, granularity, f"TF-IDF avg link, tuned {tuned}", s))
            print(lines[-1], flush=True)
    if not sweep:
        tables = "\n".join(lines) + "\n"
        if len(index_lines) > 2:
            tables += "\n" + "\n".join(index_lines) + "\n"
        if len(company_lines) > 2:
            tables += "\n" + "\n".join(company_lines) + "\n"
        if len(order_lines) > 2:
            tables += "\n" + "\n".join(order_lines) + "\n"
        if len(human) > 2:
            tables += "\n" + "\n".join(human) + "\n"
            tables += "\n" + "\n".join(rank) + "\n"
        with open(out, "w", encoding="utf-8") as f:
            f.write(tables)
        print(tables)


if __name__ == "__main__":
    main()

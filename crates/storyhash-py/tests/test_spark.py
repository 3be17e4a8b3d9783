"""storyhash.spark on Spark local[2] gives `storyhash dedup`'s kept ids and clusters on the
same rows, and its connected components are those of a union-find."""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("CI"):
    # CI installs both: there a missing one is a failure, not a skip.
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyspark  # noqa: F401
else:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("pyspark")

import storyhash
import storyhash.spark

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "target" / "release" / "storyhash"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # The executors' Python is this one, which has storyhash installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    spark_session = (
        SparkSession.builder.master("local[2]")
        .appName("storyhash-test")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark_session.sparkContext.setLogLevel("ERROR")
    yield spark_session
    spark_session.stop()


def corpus(n_originals=6600, seed=11):
    """About 10,000 rows: originals, edited copies, exact wire copies, a story repeated
    with one word changed hundreds of times (LSH buckets past the pivot limit), short
    texts without shingles and rows without text."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(5000)]
    rows = []

    def text_of(n):
        return " ".join(rng.choice(words) for _ in range(n))

    originals = [text_of(rng.randint(80, 400)) for _ in range(n_originals)]
    for i, text in enumerate(originals):
        rows.append({"id": f"o{i}", "text": text})
        if i % 3 == 0:
            edited = text.split()
            for _ in range(rng.randint(1, max(2, len(edited) // 12))):
                edited[rng.randrange(len(edited))] = rng.choice(words)
            rows.append({"id": f"o{i}-e", "text": " ".join(edited)})
    for w in range(20):
        for c in range(50):
            rows.append({"id": f"wire{w}-{c}", "text": originals[w]})
    story = originals[100]
    for v in range(300):
        rows.append({"id": f"variant{v}", "text": story + f" w{v}"})
    for s in range(20):
        rows.append({"id": f"short{s}", "text": "w1 w2 w3"})
    for b in range(5):
        rows.append({"id": f"blank{b}", "text": None if b % 2 else "   "})
    rng.shuffle(rows)
    return rows


def table_of(rows):
    return pa.table(
        {
            "id": [r["id"] for r in rows],
            "text": pa.array([r["text"] for r in rows], pa.string()),
            "source": [f"site{i % 7}" for i in range(len(rows))],
            "meta": [{"rank": i, "tags": ["a"] * (i % 3)} for i in range(len(rows))],
        }
    )


def cli_dedup(path, tmp_path, keep):
    kept, clusters = tmp_path / f"kept-{keep}.jsonl", tmp_path / f"clusters-{keep}.jsonl"
    subprocess.run(
        [str(CLI), "dedup", str(path), "-o", str(kept), "--clusters", str(clusters), "--keep", keep, "--quiet"],
        check=True,
        capture_output=True,
    )
    import json

    kept_ids = [json.loads(line)["id"] for line in kept.read_text().splitlines()]
    cluster_rows = [json.loads(line) for line in clusters.read_text().splitlines()]
    return kept_ids, cluster_rows


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_spark_dedup_gives_the_cli_kept_ids_and_clusters(spark, tmp_path, keep):
    rows = corpus()
    assert len(rows) >= 10_000
    path = tmp_path / "corpus.parquet"
    pq.write_table(table_of(rows), path, row_group_size=2500)
    cli_kept, cli_clusters = cli_dedup(path, tmp_path, keep)

    df = spark.read.parquet(str(path))
    kept_df, clusters_df = storyhash.spark.dedup(df, keep=keep)
    # Every input column comes through unchanged.
    assert kept_df.columns == df.columns
    spark_kept = sorted(r["id"] for r in kept_df.select("id").collect())
    assert spark_kept == sorted(cli_kept)
    spark_clusters = [
        {"cluster": r["cluster"], "kept": r["kept"], "members": list(r["members"]), "size": r["size"]}
        for r in clusters_df.orderBy("cluster").collect()
    ]
    assert spark_clusters == cli_clusters
    # The corpus exercises what it should: copies, edits and the oversized buckets.
    sizes = sorted(c["size"] for c in cli_clusters)
    assert sizes[-1] >= 300 and len(cli_clusters) > 1000


def union_find_roots(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}


def test_large_star_small_star_components_match_union_find(spark):
    rng = random.Random(3)
    edges = [(i, i + 1) for i in range(0, 400)]  # a long path: the slowest to converge
    edges += [(1000, 1000 + k) for k in range(1, 200)]  # a star
    edges += [(2000 + k, 2000 + (k + 1) % 50) for k in range(50)]  # a cycle
    edges += [(rng.randrange(3000, 6000), rng.randrange(3000, 6000)) for _ in range(2500)]
    edges += [(7, 7)]  # a self-loop joins nothing
    df = spark.createDataFrame(edges, "a long, b long")
    got = {r["node"]: r["root"] for r in storyhash.spark.components(df).collect()}
    want = union_find_roots([e for e in edges if e[0] != e[1]])
    assert got == want


def test_kernels_agree_with_the_cli_band_rows(tmp_path):
    """The band rows kernel gives `dedup --band-rows`' rows for the same documents."""
    rows = [r for r in corpus()[:400] if r["text"] and r["text"].strip()]
    signer = storyhash.Signer("dup")
    batch = pa.record_batch({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    bands = signer.band_rows(batch)
    with_shingles = [r for r in rows if len(r["text"].split()) >= 5]
    assert bands.num_rows == signer.bands * len(with_shingles)
    path = tmp_path / "small.parquet"
    pq.write_table(pa.table({"id": batch.column("id"), "text": batch.column("text")}), path)
    out = tmp_path / "bands.parquet"
    subprocess.run(
        [str(CLI), "dedup", str(path), "-o", str(tmp_path / "k.jsonl"), "--band-rows", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    cli = pq.read_table(out)
    assert cli.schema.names == ["id", "band", "key"]
    mine = sorted(zip(*(bands.column(c).to_pylist() for c in ("id", "band", "key"))))
    theirs = sorted(zip(*(cli.column(c).to_pylist() for c in ("id", "band", "key"))))
    assert mine == theirs

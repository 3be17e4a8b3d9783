"""`storyhash dedup` on a pyarrow-written Parquet file: the kept rows come back with every
column (nested, typed, binary) unchanged, and the answers equal the JSONL run's."""

import datetime
import decimal
import json
import os
import subprocess
from pathlib import Path

import pytest

if os.environ.get("CI"):
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")

from test_spark import CLI, corpus


def run(*args):
    subprocess.run([str(CLI), *map(str, args), "--quiet"], check=True, capture_output=True)


def test_parquet_round_trip_keeps_rows_unchanged_and_equals_the_jsonl_run(tmp_path):
    rows = [r for r in corpus()[:3000] if r["text"] and r["text"].strip()]
    n = len(rows)
    base = datetime.datetime(2025, 3, 1, tzinfo=datetime.timezone.utc)
    table = pa.table(
        {
            "doc": pa.array([{"key": r["id"], "lang": "en" if i % 2 else "ar"} for i, r in enumerate(rows)]),
            "body": pa.array([r["text"] for r in rows], pa.large_string()),
            "seen": pa.array([base + datetime.timedelta(minutes=i) for i in range(n)], pa.timestamp("us", "UTC")),
            "price": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(10, 2)),
            "raw": pa.array([bytes([i % 256]) * 3 for i in range(n)], pa.binary()),
            "tags": pa.array([["x"] * (i % 3) for i in range(n)], pa.list_(pa.string())),
            "score": pa.array([None if i % 5 == 0 else i * 0.25 for i in range(n)], pa.float64()),
        }
    )
    source = tmp_path / "corpus.parquet"
    pq.write_table(table, source, row_group_size=700)
    fields = ["--id-field", "doc.key", "--text-field", "body"]

    kept = tmp_path / "kept.parquet"
    removed = tmp_path / "removed.parquet"
    run("dedup", source, "-o", kept, "--removed", removed, *fields)
    out = pq.read_table(kept)
    assert out.schema == table.schema
    kept_ids = set(out.column("doc").combine_chunks().field("key").to_pylist())
    mask = pa.array([r["id"] in kept_ids for r in rows])
    assert out.equals(table.filter(mask))
    assert 0 < out.num_rows < n

    # The same rows as JSONL give the same kept ids and removed list.
    lines = tmp_path / "corpus.jsonl"
    with lines.open("w") as f:
        for r in rows:
            f.write(json.dumps({"doc": {"key": r["id"]}, "body": r["text"]}) + "\n")
    kept_lines, removed_lines = tmp_path / "kept.jsonl", tmp_path / "removed.jsonl"
    run("dedup", lines, "-o", kept_lines, "--removed", removed_lines, *fields)
    assert {json.loads(x)["doc"]["key"] for x in kept_lines.read_text().splitlines()} == kept_ids
    removed_rows = pq.read_table(removed).to_pylist()
    assert removed_rows == [json.loads(x) for x in removed_lines.read_text().splitlines()]


def test_a_damaged_parquet_file_is_an_error_naming_it(tmp_path):
    source = tmp_path / "broken.parquet"
    pq.write_table(pa.table({"id": ["a"], "text": ["some words of text here"]}), source)
    source.write_bytes(source.read_bytes()[:-20])
    result = subprocess.run([str(CLI), "dedup", str(source), "-o", str(tmp_path / "k.jsonl")], capture_output=True, text=True)
    assert result.returncode != 0
    assert "broken.parquet" in result.stderr and "not a readable Parquet file" in result.stderr
    assert not (tmp_path / "k.jsonl").exists()


def test_cluster_pairs_as_parquet_equal_its_json_lines(tmp_path):
    rows = [r for r in corpus()[:1500] if r["text"] and r["text"].strip()]
    source = tmp_path / "corpus.parquet"
    pq.write_table(pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}), source)
    as_parquet, as_lines = tmp_path / "pairs.parquet", tmp_path / "pairs.jsonl"
    run("cluster", source, "--pairs", as_parquet, "-o", tmp_path / "report.txt")
    run("cluster", source, "--pairs", as_lines, "-o", tmp_path / "report2.txt")
    pairs = pq.read_table(as_parquet)
    assert pairs.schema.names == ["a", "b", "jaccard"] and pairs.num_rows > 0
    assert pairs.to_pylist() == [json.loads(x) for x in as_lines.read_text().splitlines()]

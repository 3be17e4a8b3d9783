#!/usr/bin/env bash
# Spark local[2] beside the CLI on one corpus, in one run: a generated corpus of news-like
# documents with near-duplicate families (benches/src/bin/gen_corpus.rs) written as
# Parquet, deduplicated by `storyhash dedup` (2 threads) and by `storyhash.spark.dedup` in
# local[2]. Prints each one's seconds and documents/s, checks that both keep the same ids,
# and reads Spark's shuffle bytes (written and read, every stage) from its monitoring
# API, per document. Needs the CI venv (target/ci-venv: pyspark, pyarrow, pandas, the
# storyhash wheel), as .ci/run builds it.
#
#   bash benches/spark.sh [ORIGINALS]
set -euo pipefail
cd "$(dirname "$0")/.."
originals=${1:-77000}
work=${WORK:-target/spark-bench}
python=target/ci-venv/bin/python
mkdir -p "$work"
# The CLI in a build of its own, as users build it: built with storyhash-bench, the
# library would carry the bench crate's features and compile differently.
cargo build --release --locked -q -p storyhash-cli
cargo build --release --locked -q -p storyhash-bench --bins
target/release/gen_corpus "$originals" "$work/corpus.jsonl" "$work/truth.jsonl" 1
"$python" - "$work" <<'PY'
import sys, pyarrow.json as pj, pyarrow.parquet as pq
work = sys.argv[1]
table = pj.read_json(f"{work}/corpus.jsonl")
pq.write_table(table.select(["id", "text"]), f"{work}/corpus.parquet", row_group_size=20000)
print(f"corpus: {table.num_rows} documents")
PY

"$python" - "$work" <<'PY'
import json, os, subprocess, sys, time, urllib.request
work = sys.argv[1]
corpus = f"{work}/corpus.parquet"

start = time.time()
subprocess.run(["target/release/storyhash", "dedup", corpus, "-o", f"{work}/kept.jsonl",
                "--threads", "2", "--quiet"], check=True)
cli_seconds = time.time() - start
cli_kept = {json.loads(line)["id"] for line in open(f"{work}/kept.jsonl")}

os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession
import storyhash.spark

spark = (SparkSession.builder.master("local[2]").appName("storyhash-bench")
         .config("spark.sql.shuffle.partitions", "8").config("spark.driver.memory", "6g")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(corpus)
documents = df.count()
start = time.time()
kept, clusters = storyhash.spark.dedup(df)
spark_kept = {r["id"] for r in kept.select("id").collect()}
spark_seconds = time.time() - start

app = spark.sparkContext.applicationId
url = spark.sparkContext.uiWebUrl
stages = json.load(urllib.request.urlopen(f"{url}/api/v1/applications/{app}/stages"))
written = sum(s.get("shuffleWriteBytes", 0) for s in stages)
read = sum(s.get("shuffleReadBytes", 0) for s in stages)
spark.stop()

print(f"| path | seconds | documents/s |")
print(f"|---|---:|---:|")
print(f"| storyhash dedup, 2 threads | {cli_seconds:.1f} | {documents / cli_seconds:,.0f} |")
print(f"| storyhash.spark.dedup, local[2] | {spark_seconds:.1f} | {documents / spark_seconds:,.0f} |")
print(f"Spark over CLI: {spark_seconds / cli_seconds:.1f}x; same kept ids: {spark_kept == cli_kept}")
print(f"shuffle written {written / documents:,.0f} bytes/document, read {read / documents:,.0f}"
      f" bytes/document ({documents} documents)")
PY

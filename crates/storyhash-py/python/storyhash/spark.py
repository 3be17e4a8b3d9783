"""Deduplication and clustering on Spark with storyhash's Rust core.

`dedup(df)` and `cluster(df)` take a PySpark DataFrame with an id and a text column and
give the kept rows and clusters `storyhash dedup` gives on the same rows. The
per-document and per-pair work runs in the Rust kernels (`storyhash.Signer`) inside
`mapInArrow`; Spark does the shuffles:

1. **Sign** (`mapInArrow`): per row, the document's rank, exact-copy fingerprint, band
   keys, signature low bytes and exact shingle set.
2. **Exact copies**: documents with one fingerprint join the first of them (input order)
   with Jaccard 1; only that first one is banded, ranked by the group's lowest id rank.
3. **Band**: rows `(band, key)` grouped; each bucket's members ordered by rank (ties by
   input order) become candidate pairs by the CLI's bucket rule (every pair of a bucket
   of up to 128; beyond, each pivot with every later member), in `mapInArrow`.
4. **Verify** (`mapInArrow`): the b-bit prefilter, then exact Jaccard against the
   threshold.
5. **Connected components** by large-star/small-star (Kiveris et al., "Connected
   Components in MapReduce and Beyond", SoCC 2014) in DataFrame operations: rounds of
   the two operations until the edge set stops changing, each round's edges
   checkpointed so that the plan does not grow; the number of rounds is bounded
   (O(log² n) in the paper) and a run that passes the bound raises.
6. **Keep** one member per component by the keep policy, as the CLI does.

Nothing is collected on the driver but counts. Input order is the DataFrame's order as
`monotonically_increasing_id` sees it (a file read in order keeps it), and it decides
which copy is kept under `keep="first"`, as the CLI's line order does.

Rows whose text is null or blank are not documents (the CLI skips such records): they are
in no cluster and not among the kept rows. Ids must be unique (checked; a ValueError
names a repeated one).
"""

import math

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

__all__ = ["dedup", "cluster", "components"]

_ORDER = "_storyhash_order"

_SIGNED = T.StructType(
    [
        T.StructField("id", T.StringType()),
        T.StructField("document", T.BooleanType(), False),
        T.StructField("rank", T.LongType(), False),
        T.StructField("fingerprint", T.LongType(), False),
        T.StructField("shingles", T.LongType(), False),
        T.StructField("prefiltered", T.BooleanType(), False),
        T.StructField("text_len", T.LongType(), False),
        T.StructField("published", T.LongType()),
        T.StructField("keys", T.ArrayType(T.LongType())),
        T.StructField("low", T.BinaryType()),
        T.StructField("set", T.BinaryType()),
        T.StructField("order", T.LongType(), False),
    ]
)
_PAIRS = T.StructType([T.StructField("a", T.LongType(), False), T.StructField("b", T.LongType(), False)])
_EDGES = T.StructType(
    [
        T.StructField("a", T.LongType(), False),
        T.StructField("b", T.LongType(), False),
        T.StructField("jaccard", T.DoubleType(), False),
    ]
)


def _kernel(preset, threshold, keep):
    # Built on the executor: a Signer is a Rust object and does not travel pickled.
    import storyhash

    return storyhash.Signer(preset, threshold, keep)


def _sign_batches(preset, threshold, keep):
    def run(batches):
        import pyarrow as pa

        signer = _kernel(preset, threshold, keep)
        for batch in batches:
            signed = signer.sign(batch)
            yield pa.RecordBatch.from_arrays(
                signed.columns + [batch.column("order")], names=signed.schema.names + ["order"]
            )

    return run


def _apply(method, preset, threshold, keep):
    """A mapInArrow function that runs the Signer's `method` on every batch."""

    def run(batches):
        kernel = getattr(_kernel(preset, threshold, keep), method)
        for batch in batches:
            yield kernel(batch)

    return run


def _checkpoint(df):
    """Cuts `df`'s lineage: a reliable checkpoint when the context has a checkpoint
    directory, a local one otherwise."""
    if df.sparkSession.sparkContext.getCheckpointDir():
        return df.checkpoint(eager=True)
    return df.localCheckpoint(eager=True)


def components(edges, max_rounds=None):
    """Connected components of an undirected graph given as `(a, b)` long columns, by
    large-star/small-star. Returns `(node, root)` for every node on an edge, `root` the
    smallest node of its component. Raises RuntimeError after `max_rounds` rounds
    (default 2·⌈log2(2·edges + 2)⌉², the paper's O(log² n) with room) without convergence."""
    e = (
        edges.select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b"))
        .filter("a != b")
        .distinct()
    )
    e = _checkpoint(e)
    count = e.count()
    if max_rounds is None:
        max_rounds = 2 * math.ceil(math.log2(2 * count + 2)) ** 2
    for _ in range(max_rounds):
        # Large-star: every node links its larger neighbours to the smallest of its
        # neighbourhood (itself included).
        both = e.select(F.col("a").alias("u"), F.col("b").alias("v")).union(
            e.select(F.col("b").alias("u"), F.col("a").alias("v"))
        )
        smallest = both.groupBy("u").agg(F.min("v").alias("m")).withColumn("m", F.least("u", "m"))
        large = (
            both.filter("v > u")
            .join(smallest, "u")
            .select(F.col("v").alias("a"), F.col("m").alias("b"))
            .distinct()
        )
        # Small-star: every node links itself and its smaller neighbours to the smallest
        # of them (edges are held larger end first, so a node's smaller neighbours are
        # the edges it heads).
        smaller = large.select(F.col("a").alias("u"), F.col("b").alias("v"))
        smallest = smaller.groupBy("u").agg(F.min("v").alias("m"))
        small = (
            smaller.join(smallest, "u")
            .select(F.col("v").alias("a"), F.col("m").alias("b"))
            .filter("a != b")
            .union(smallest.select(F.col("u").alias("a"), F.col("m").alias("b")))
            .select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b"))
            .distinct()
        )
        small = _checkpoint(small)
        new_count = small.count()
        # Both sets are distinct: equal sizes and one inside the other is equality.
        unchanged = new_count == count and small.join(e, ["a", "b"], "left_anti").limit(1).count() == 0
        e, count = small, new_count
        if unchanged:
            return e.select(F.col("a").alias("node"), F.col("b").alias("root")).union(
                e.select(F.col("b").alias("node"), F.col("b").alias("root"))
            ).distinct()
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")


def _clustered(df, id_col, text_col, published_col, preset, threshold, keep):
    """The signed documents and, per document in a cluster of two or more, its root."""
    indexed = df.withColumn(_ORDER, F.monotonically_increasing_id())
    columns = [
        F.col(id_col).cast("string").alias("id"),
        F.col(text_col).cast("string").alias("text"),
    ]
    if published_col is not None:
        columns.append(F.col(published_col).alias("published"))
    columns.append(F.col(_ORDER).alias("order"))
    signed = (
        indexed.select(*columns)
        .mapInArrow(_sign_batches(preset, threshold, keep), _SIGNED)
        .filter("document")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    repeated = signed.groupBy("id").count().filter("count > 1").limit(1).collect()
    if repeated:
        raise ValueError(f"id {repeated[0]['id']!r} is used by more than one row; ids must be unique")

    # Only the narrow columns travel through the copy grouping and the banding; the
    # low bytes and sets go to the verification join alone.
    featured = signed.filter("shingles > 0").select("order", "fingerprint", "rank", "keys")
    groups = featured.groupBy("fingerprint").agg(
        F.min("order").alias("first"), F.min("rank").alias("group_rank")
    )
    with_group = featured.join(groups, "fingerprint")
    representatives = with_group.filter(F.col("order") == F.col("first"))
    copies = with_group.filter(F.col("order") != F.col("first")).select(
        F.col("first").alias("a"), F.col("order").alias("b")
    )

    buckets = (
        representatives.select("order", "group_rank", F.posexplode("keys").alias("band", "key"))
        .groupBy("band", "key")
        .agg(F.sort_array(F.collect_list(F.struct("group_rank", "order"))).alias("m"))
        .filter(F.size("m") > 1)
        .select(F.col("m.order").alias("members"))
    )
    candidates = buckets.mapInArrow(_apply("bucket_pairs", preset, threshold, keep), _PAIRS).distinct()

    def side(s):
        return signed.select(
            F.col("order").alias(s),
            F.col("prefiltered").alias("prefiltered_" + s),
            F.col("low").alias("low_" + s),
            F.col("set").alias("set_" + s),
        )

    verified = (
        candidates.join(side("a"), "a")
        .join(side("b"), "b")
        .mapInArrow(_apply("verify", preset, threshold, keep), _EDGES)
        .select("a", "b")
    )
    roots = components(verified.union(copies))
    return indexed, signed, roots


def _keep_key(keep):
    """The value whose minimum over a cluster's members is its kept member's."""
    if keep == "first":
        return F.struct(F.col("order"))
    if keep == "longest":
        return F.struct((-F.col("text_len")).alias("l"), F.col("order"))
    if keep == "earliest":
        return F.struct(F.col("published").isNull().alias("undated"), F.col("published"), F.col("order"))
    raise ValueError(f"unknown keep policy {keep!r} (known: first, longest, earliest)")


def _clusters(signed, roots, keep):
    members = roots.join(signed.select("order", "id", "text_len", "published"), F.col("node") == F.col("order"))
    grouped = members.groupBy("root").agg(
        F.min(_keep_key(keep)).alias("kept_key"),
        F.sort_array(F.collect_list(F.struct("order", "id"))).alias("m"),
    )
    kept_ids = members.select(F.col("order").alias("kept_order"), F.col("id").alias("kept"))
    clusters = grouped.join(kept_ids, F.col("kept_key.order") == F.col("kept_order")).select(
        F.col("m")[0]["order"].alias("first"),
        "kept",
        F.col("kept_order"),
        F.col("m.id").alias("members"),
        F.size("m").cast("long").alias("size"),
    )
    # Numbered largest first, ties by first member, as the CLI numbers them; zipWithIndex
    # numbers a sorted RDD without moving it to one partition.
    numbered = clusters.rdd.sortBy(lambda row: (-row["size"], row["first"])).zipWithIndex().map(
        lambda pair: (pair[1], pair[0]["kept"], pair[0]["members"], pair[0]["size"], pair[0]["kept_order"])
    )
    schema = T.StructType(
        [
            T.StructField("cluster", T.LongType(), False),
            T.StructField("kept", T.StringType(), False),
            T.StructField("members", T.ArrayType(T.StringType(), False), False),
            T.StructField("size", T.LongType(), False),
            T.StructField("kept_order", T.LongType(), False),
        ]
    )
    return signed.sparkSession.createDataFrame(numbered, schema)


def cluster(df: DataFrame, id_col="id", text_col="text", preset="dup", threshold=None, keep="first",
            published_col=None) -> DataFrame:
    """Clusters of two or more near-duplicates: `(cluster, kept, members, size)`, as
    `storyhash dedup --clusters` writes them (members in input order, clusters numbered
    largest first, ties by first member)."""
    _, signed, roots = _clustered(df, id_col, text_col, published_col, preset, threshold, keep)
    return _clusters(signed, roots, keep).drop("kept_order")


def dedup(df: DataFrame, id_col="id", text_col="text", preset="dup", threshold=None, keep="first",
          published_col=None):
    """Removes near-duplicates: returns `(kept_df, clusters_df)`, the rows kept (every
    input column, one row per cluster and every row in none) and the clusters as
    `cluster` gives them. `published_col` names the publication time column that
    `keep="earliest"` reads (strings in the CLI's forms, Unix seconds, or timestamps)."""
    indexed, signed, roots = _clustered(df, id_col, text_col, published_col, preset, threshold, keep)
    clusters = _clusters(signed, roots, keep)
    removed = roots.join(clusters.select("kept_order"), F.col("node") == F.col("kept_order"), "left_anti").select(
        F.col("node").alias(_ORDER)
    )
    documents = signed.select(F.col("order").alias(_ORDER))
    kept = (
        indexed.join(documents, _ORDER, "left_semi")
        .join(removed, _ORDER, "left_anti")
        .drop(_ORDER)
    )
    return kept, clusters.drop("kept_order")

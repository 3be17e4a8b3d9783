//! The stage contract: the tables a run hands from stage to stage, with one Arrow schema
//! each, so that a run on one machine (the CLI's `--band-rows`, `--pairs`, `--removed`,
//! `--clusters` files) and a run on Spark (`storyhash.spark`, the Python kernels) can be
//! compared file by file. `docs/stages.md` describes them for users.
//!
//! - [`Table::Bands`]: `(id, band, key)`, one row per document with shingles and band:
//!   the LSH key of that band (a u32). Documents sharing a (band, key) are candidates.
//! - [`Table::Pairs`]: `(a, b, jaccard)`, verified edges, ids in input order, Jaccard to
//!   six decimals.
//! - [`Table::Removed`]: `(id, duplicate_of, jaccard)`, each removed document with the kept
//!   member of its cluster.
//! - [`Table::Clusters`]: `(cluster, kept, members, size)`, clusters of two or more,
//!   numbered largest first (ties by first member), members in input order.
//!
//! The lists are written as JSON lines by the commands; [`ParquetLines`] turns those
//! lines into Parquet with the table's schema as they are written, so both formats come
//! from one writer and cannot drift apart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};

/// One of the stage contract's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Band rows: `id` (string), `band` (uint32), `key` (uint32).
    Bands,
    /// Verified pairs: `a`, `b` (strings), `jaccard` (float64).
    Pairs,
    /// Removed documents: `id`, `duplicate_of` (strings), `jaccard` (float64).
    Removed,
    /// Clusters: `cluster` (uint64), `kept` (string), `members` (list of strings),
    /// `size` (uint64).
    Clusters,
}

impl Table {
    /// The table's Arrow schema (every column non-null).
    pub fn schema(self) -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, false);
        let float = |name: &str| Field::new(name, DataType::Float64, false);
        let fields = match self {
            Table::Bands => vec![
                text("id"),
                Field::new("band", DataType::UInt32, false),
                Field::new("key", DataType::UInt32, false),
            ],
            Table::Pairs => vec![text("a"), text("b"), float("jaccard")],
            Table::Removed => vec![text("id"), text("duplicate_of"), float("jaccard")],
            Table::Clusters => vec![
                Field::new("cluster", DataType::UInt64, false),
                text("kept"),
                Field::new(
                    "members",
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))),
                    false,
                ),
                Field::new("size", DataType::UInt64, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

/// Rows decoded from JSON lines per Parquet write.
const ROWS_PER_BATCH: usize = 65_536;

/// A writer that takes a table's JSON lines and writes them to `W` as Parquet with the
/// table's schema. Call [`ParquetLines::finish`] to write the footer; a writer dropped
/// without it leaves an incomplete file (the CLI's atomic outputs then leave nothing).
pub struct ParquetLines<W: Write + Send> {
    decoder: arrow_json::reader::Decoder,
    writer: ::parquet::arrow::ArrowWriter<W>,
    name: PathBuf,
}

impl<W: Write + Send> ParquetLines<W> {
    /// Parquet of `table` to `out`; errors call it `name`.
    pub fn new(table: Table, out: W, name: &Path) -> Result<Self> {
        let schema = table.schema();
        let failed = |e: &dyn std::fmt::Display| Error::Parquet {
            path: name.to_path_buf(),
            detail: e.to_string(),
        };
        let decoder = arrow_json::ReaderBuilder::new(schema.clone())
            .with_batch_size(ROWS_PER_BATCH)
            .build_decoder()
            .map_err(|e| failed(&e))?;
        let props = ::parquet::file::properties::WriterProperties::builder()
            .set_compression(::parquet::basic::Compression::ZSTD(Default::default()))
            .build();
        let writer = ::parquet::arrow::ArrowWriter::try_new(out, schema, Some(props))
            .map_err(|e| failed(&e))?;
        Ok(ParquetLines {
            decoder,
            writer,
            name: name.to_path_buf(),
        })
    }

    /// Writes the rows decoded so far.
    fn write_decoded(&mut self) -> std::io::Result<()> {
        if let Some(batch) = self.decoder.flush().map_err(std::io::Error::other)? {
            self.writer.write(&batch).map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Writes the last rows and the footer, and hands back the output.
    pub fn finish(mut self) -> Result<W> {
        let name = self.name.clone();
        let failed = |e: &dyn std::fmt::Display| Error::Parquet {
            path: name.clone(),
            detail: e.to_string(),
        };
        self.write_decoded().map_err(|e| failed(&e))?;
        self.writer.into_inner().map_err(|e| failed(&e))
    }
}

impl<W: Write + Send> Write for ParquetLines<W> {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let total = buf.len();
        while !buf.is_empty() {
            let read = self.decoder.decode(buf).map_err(std::io::Error::other)?;
            buf = &buf[read..];
            if !buf.is_empty() {
                // A full batch stopped the decoder.
                self.write_decoded()?;
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;

    fn read_back(bytes: Vec<u8>) -> Vec<arrow_array::RecordBatch> {
        let reader = ::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
            bytes::Bytes::from(bytes),
            1024,
        )
        .expect("a Parquet file");
        reader.collect::<std::result::Result<_, _>>().expect("rows")
    }

    #[test]
    fn json_lines_become_rows_of_the_tables_schema() {
        let mut out =
            ParquetLines::new(Table::Clusters, Vec::new(), Path::new("c.parquet")).expect("writer");
        // Written in pieces that cut lines anywhere, as a buffered writer would.
        let lines = concat!(
            r#"{"cluster":0,"kept":"a","members":["a","b"],"size":2}"#,
            "\n",
            r#"{"cluster":1,"kept":"x","members":["x","y","z"],"size":3}"#,
            "\n"
        );
        for piece in lines.as_bytes().chunks(7) {
            out.write_all(piece).expect("write");
        }
        let batches = read_back(out.finish().expect("finish"));
        assert_eq!(batches[0].schema(), Table::Clusters.schema());
        let kept = batches[0].column(1).as_string::<i32>();
        assert_eq!(kept.iter().flatten().collect::<Vec<_>>(), ["a", "x"]);
        let members = batches[0].column(2).as_list::<i32>();
        assert_eq!(members.value(1).as_string::<i32>().value(2), "z");
    }

    #[test]
    fn a_line_that_does_not_fit_the_schema_is_an_error() {
        let mut out =
            ParquetLines::new(Table::Pairs, Vec::new(), Path::new("p.parquet")).expect("writer");
        let written = out.write_all(b"{\"a\":\"x\",\"b\":\"y\",\"jaccard\":\"high\"}\n");
        let finished = written
            .map_err(|e| e.to_string())
            .and_then(|()| out.finish().map(|_| ()).map_err(|e| e.to_string()));
        assert!(finished.is_err());
    }
}

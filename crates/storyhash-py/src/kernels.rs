//! Arrow kernels: `storyhash.Signer`, the per-document and per-pair work of
//! `storyhash dedup` on Arrow record batches, for engines that shuffle the rest
//! (`storyhash.spark` runs them inside `mapInArrow`). Batches cross from and to pyarrow
//! through the Arrow C data interface without a copy; each kernel calls the core's
//! [`DocSigner`] and [`bucket_pairs`], the functions `dedup` itself runs, so a corpus
//! deduplicated through them gives the CLI's answers.
//!
//! Column types follow Spark's Arrow types: ids and texts are strings (32- or 64-bit
//! offsets, or views), document positions and ranks are int64. A rank is the document's
//! unsigned id rank ([`id_rank`]) with its top bit flipped, so that comparing the signed
//! values orders them as the unsigned ones.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    UInt32Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;
use rayon::prelude::*;
use storyhash_core::dedup::{DocSigner, SignerScratch};
use storyhash_core::doc::parse_published;
use storyhash_core::lsh::{bucket_pairs, id_rank};

use crate::{params, to_py_err, Tuning};

/// The per-document and per-pair kernels of one parameter set.
#[pyclass(frozen, module = "storyhash")]
pub(crate) struct Signer {
    signer: DocSigner,
    keep: String,
    threshold: f64,
}

/// A rank as a signed value that orders as the unsigned one does.
fn signed_rank(rank: u64) -> i64 {
    (rank ^ (1 << 63)) as i64
}

/// The column `name` of `batch`, or a ValueError naming it and the columns there are.
fn column<'b>(batch: &'b RecordBatch, name: &str) -> PyResult<&'b ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        PyValueError::new_err(format!(
            "the batch has no column {name:?} (columns: {})",
            names.join(", ")
        ))
    })
}

/// The values of a string column (None for nulls).
fn strings<'a>(array: &'a ArrayRef, name: &str) -> PyResult<Vec<Option<&'a str>>> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        other => {
            return Err(PyValueError::new_err(format!(
                "column {name:?} must be strings, not {other}"
            )))
        }
    })
}

/// The values of an int64 column (None for nulls).
fn longs(array: &ArrayRef, name: &str) -> PyResult<Vec<Option<i64>>> {
    match array.data_type() {
        DataType::Int64 => Ok(array.as_primitive::<Int64Type>().iter().collect()),
        DataType::Int32 => Ok(array
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(i64::from))
            .collect()),
        other => Err(PyValueError::new_err(format!(
            "column {name:?} must be int64, not {other}"
        ))),
    }
}

/// Publication times in Unix seconds: strings and integers as the CLI reads them
/// ([`parse_published`]; an unreadable one is None, the document undated, as there),
/// timestamps from their stored instant.
fn published(array: &ArrayRef) -> PyResult<Vec<Option<i64>>> {
    let seconds = |values: Vec<Option<i64>>, per_second: i64| {
        values
            .into_iter()
            .map(|v| v.map(|v| v.div_euclid(per_second)))
            .collect()
    };
    Ok(match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => strings(array, "published")?
            .into_iter()
            .map(|v| v.and_then(|text| parse_published(text).ok()))
            .collect(),
        DataType::Int64 | DataType::Int32 => longs(array, "published")?
            .into_iter()
            .map(|v| v.and_then(|n| parse_published(&n.to_string()).ok()))
            .collect(),
        DataType::Timestamp(unit, _) => {
            let (values, per_second): (Vec<Option<i64>>, i64) = match unit {
                TimeUnit::Second => (
                    array.as_primitive::<TimestampSecondType>().iter().collect(),
                    1,
                ),
                TimeUnit::Millisecond => (
                    array
                        .as_primitive::<TimestampMillisecondType>()
                        .iter()
                        .collect(),
                    1_000,
                ),
                TimeUnit::Microsecond => (
                    array
                        .as_primitive::<TimestampMicrosecondType>()
                        .iter()
                        .collect(),
                    1_000_000,
                ),
                TimeUnit::Nanosecond => (
                    array
                        .as_primitive::<TimestampNanosecondType>()
                        .iter()
                        .collect(),
                    1_000_000_000,
                ),
            };
            seconds(values, per_second)
        }
        DataType::Null => vec![None; array.len()],
        other => {
            return Err(PyValueError::new_err(format!(
                "column \"published\" must be strings, integers or timestamps, not {other}"
            )))
        }
    })
}

/// The values of a binary column.
fn binaries<'a>(array: &'a ArrayRef, name: &str) -> PyResult<Vec<&'a [u8]>> {
    let values: Vec<Option<&[u8]>> = match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().iter().collect(),
        DataType::LargeBinary => array.as_binary::<i64>().iter().collect(),
        DataType::BinaryView => array.as_binary_view().iter().collect(),
        other => {
            return Err(PyValueError::new_err(format!(
                "column {name:?} must be binary, not {other}"
            )))
        }
    };
    Ok(values.into_iter().map(Option::unwrap_or_default).collect())
}

/// A set stored as little-endian u32s.
fn set_of(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// What [`Signer::sign`] learns of one row.
struct SignedRow {
    document: bool,
    rank: i64,
    fingerprint: i64,
    shingles: i64,
    prefiltered: bool,
    text_len: i64,
    keys: Vec<u32>,
    low: Vec<u8>,
    set: Vec<u32>,
}

fn batch_of(fields: Vec<Field>, columns: Vec<ArrayRef>) -> PyResult<RecordBatch> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

impl Signer {
    /// Signs every row of `batch`; `with_sets` also keeps each exact set (what
    /// verification needs and band rows do not).
    fn sign_rows<'b>(
        &self,
        batch: &'b RecordBatch,
        with_sets: bool,
    ) -> PyResult<(Vec<Option<&'b str>>, Vec<SignedRow>)> {
        let ids = strings(column(batch, "id")?, "id")?;
        let texts = strings(column(batch, "text")?, "text")?;
        let (bands, k) = (self.signer.lsh().bands, self.signer.num_perm());
        let rows = texts
            .par_iter()
            .zip(&ids)
            .map_init(SignerScratch::default, |scratch, (text, id)| {
                let (mut keys, mut low) = (vec![0u32; bands], vec![0u8; k]);
                // A null or blank text is no document, as the CLI skips its record.
                let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                    return SignedRow {
                        document: false,
                        rank: 0,
                        fingerprint: 0,
                        shingles: 0,
                        prefiltered: false,
                        text_len: 0,
                        keys: Vec::new(),
                        low: Vec::new(),
                        set: Vec::new(),
                    };
                };
                let (signed, set) = if with_sets {
                    self.signer
                        .sign_with_set(text, scratch, &mut keys, &mut low)
                } else {
                    let (signed, _) = self.signer.sign(text, scratch, &mut keys, &mut low);
                    (signed, Vec::new())
                };
                let has_shingles = signed.shingles > 0;
                SignedRow {
                    document: true,
                    rank: signed_rank(id_rank(id.unwrap_or_default())),
                    fingerprint: signed.fingerprint as i64,
                    shingles: signed.shingles as i64,
                    prefiltered: signed.prefiltered,
                    text_len: text.len() as i64,
                    keys: if has_shingles { keys } else { Vec::new() },
                    low: if has_shingles { low } else { Vec::new() },
                    set,
                }
            })
            .collect();
        Ok((ids, rows))
    }
}

#[pymethods]
impl Signer {
    /// The kernels of a preset (`dup` by default), with the CLI's overrides.
    #[new]
    #[pyo3(signature = (preset = "dup", threshold = None, keep = "first"))]
    fn new(preset: &str, threshold: Option<f64>, keep: &str) -> PyResult<Self> {
        let params = params(preset, Tuning::batch(threshold, keep))?;
        Ok(Signer {
            signer: DocSigner::new(&params).map_err(to_py_err)?,
            keep: params.keep.to_string(),
            threshold: params.threshold,
        })
    }

    /// Number of LSH bands.
    #[getter]
    fn bands(&self) -> usize {
        self.signer.lsh().bands
    }

    /// Signature length k.
    #[getter]
    fn num_perm(&self) -> usize {
        self.signer.num_perm()
    }

    /// The similarity threshold.
    #[getter]
    fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The keep policy (`first`, `longest` or `earliest`).
    #[getter]
    fn keep(&self) -> &str {
        &self.keep
    }

    /// Signs a batch with `id` and `text` columns (and optionally `published`): per
    /// row `id`, `document` (false for a null or blank text, which the CLI skips),
    /// `rank`, `fingerprint`, `shingles`, `prefiltered`, `text_len`, `published` (Unix
    /// seconds or null), `keys` (one int64 per band; empty without shingles), `low` (the
    /// signature's low bytes) and `set` (the exact set, little-endian u32s).
    fn sign(&self, py: Python<'_>, batch: PyRecordBatch) -> PyResult<Py<PyAny>> {
        let batch = batch.into_inner();
        let times = match batch.column_by_name("published") {
            Some(array) => published(array)?,
            None => vec![None; batch.num_rows()],
        };
        let (ids, rows) = py.detach(|| self.sign_rows(&batch, true))?;
        let mut id = StringBuilder::new();
        let mut document = BooleanBuilder::new();
        let (mut rank, mut fingerprint, mut shingles, mut text_len, mut time) = (
            Int64Builder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
            Int64Builder::new(),
        );
        let mut prefiltered = BooleanBuilder::new();
        let mut keys = ListBuilder::new(Int64Builder::new());
        let (mut low, mut set) = (BinaryBuilder::new(), BinaryBuilder::new());
        for ((row, row_id), when) in rows.iter().zip(&ids).zip(&times) {
            id.append_option(*row_id);
            document.append_value(row.document);
            rank.append_value(row.rank);
            fingerprint.append_value(row.fingerprint);
            shingles.append_value(row.shingles);
            prefiltered.append_value(row.prefiltered);
            text_len.append_value(row.text_len);
            time.append_option(*when);
            keys.values()
                .append_slice(&row.keys.iter().map(|&k| i64::from(k)).collect::<Vec<_>>());
            keys.append(true);
            low.append_value(&row.low);
            let bytes: Vec<u8> = row.set.iter().flat_map(|v| v.to_le_bytes()).collect();
            set.append_value(&bytes);
        }
        let long = |name: &str, nullable| Field::new(name, DataType::Int64, nullable);
        let fields = vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("document", DataType::Boolean, false),
            long("rank", false),
            long("fingerprint", false),
            long("shingles", false),
            Field::new("prefiltered", DataType::Boolean, false),
            long("text_len", false),
            long("published", true),
            Field::new(
                "keys",
                DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
                true,
            ),
            Field::new("low", DataType::Binary, true),
            Field::new("set", DataType::Binary, true),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(document.finish()),
            Arc::new(rank.finish()),
            Arc::new(fingerprint.finish()),
            Arc::new(shingles.finish()),
            Arc::new(prefiltered.finish()),
            Arc::new(text_len.finish()),
            Arc::new(time.finish()),
            Arc::new(keys.finish()),
            Arc::new(low.finish()),
            Arc::new(set.finish()),
        ];
        let out = batch_of(fields, columns)?;
        Ok(PyRecordBatch::new(out).into_pyarrow(py)?.unbind())
    }

    /// Band rows of a batch with `id` and `text` columns: `(id, band, key)` for every
    /// document with shingles and every band, as `storyhash dedup --band-rows` writes them.
    fn band_rows(&self, py: Python<'_>, batch: PyRecordBatch) -> PyResult<Py<PyAny>> {
        let batch = batch.into_inner();
        let (ids, rows) = py.detach(|| self.sign_rows(&batch, false))?;
        let (mut id, mut band, mut key) = (
            StringBuilder::new(),
            UInt32Builder::new(),
            UInt32Builder::new(),
        );
        for (row, row_id) in rows.iter().zip(&ids) {
            for (b, &k) in row.keys.iter().enumerate() {
                id.append_option(*row_id);
                band.append_value(b as u32);
                key.append_value(k);
            }
        }
        let fields = vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("band", DataType::UInt32, false),
            Field::new("key", DataType::UInt32, false),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(band.finish()),
            Arc::new(key.finish()),
        ];
        Ok(PyRecordBatch::new(batch_of(fields, columns)?)
            .into_pyarrow(py)?
            .unbind())
    }

    /// Candidate pairs of LSH buckets: a batch with a `members` column (per bucket, its
    /// documents' positions ordered by rank, ties by position) becomes `(a, b)` rows,
    /// a < b, the pairs the CLI's bucket rule proposes (every pair of a bucket of up to
    /// 128, each pivot with every later member of a larger one).
    fn bucket_pairs(&self, py: Python<'_>, batch: PyRecordBatch) -> PyResult<Py<PyAny>> {
        let batch = batch.into_inner();
        let members = column(&batch, "members")?;
        let lists = match members.data_type() {
            DataType::List(_) => members.as_list::<i32>().iter().collect::<Vec<_>>(),
            DataType::LargeList(_) => members.as_list::<i64>().iter().collect(),
            other => {
                return Err(PyValueError::new_err(format!(
                    "column \"members\" must be a list of int64, not {other}"
                )))
            }
        };
        let (mut a, mut b) = (Int64Builder::new(), Int64Builder::new());
        for list in lists.into_iter().flatten() {
            let positions: Vec<i64> = longs(&list, "members")?.into_iter().flatten().collect();
            bucket_pairs(positions.len(), |i, j| {
                let (x, y) = (positions[i], positions[j]);
                a.append_value(x.min(y));
                b.append_value(x.max(y));
            });
        }
        let fields = vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Int64, false),
        ];
        let columns: Vec<ArrayRef> = vec![Arc::new(a.finish()), Arc::new(b.finish())];
        Ok(PyRecordBatch::new(batch_of(fields, columns)?)
            .into_pyarrow(py)?
            .unbind())
    }

    /// Verified edges of candidate pairs: a batch with `a`, `b` and per side
    /// `prefiltered_*`, `low_*` and `set_*` (as [`Signer::sign`] gives them) becomes
    /// `(a, b, jaccard)` rows for the pairs the prefilter keeps whose exact Jaccard
    /// reaches the threshold.
    fn verify(&self, py: Python<'_>, batch: PyRecordBatch) -> PyResult<Py<PyAny>> {
        let batch = batch.into_inner();
        let a = longs(column(&batch, "a")?, "a")?;
        let b = longs(column(&batch, "b")?, "b")?;
        let flags = |name: &str| -> PyResult<Vec<bool>> {
            let array = column(&batch, name)?;
            match array.data_type() {
                DataType::Boolean => Ok(array
                    .as_boolean()
                    .iter()
                    .map(Option::unwrap_or_default)
                    .collect()),
                other => Err(PyValueError::new_err(format!(
                    "column {name:?} must be boolean, not {other}"
                ))),
            }
        };
        let (pre_a, pre_b) = (flags("prefiltered_a")?, flags("prefiltered_b")?);
        let (low_a, low_b) = (
            binaries(column(&batch, "low_a")?, "low_a")?,
            binaries(column(&batch, "low_b")?, "low_b")?,
        );
        let (set_a, set_b) = (
            binaries(column(&batch, "set_a")?, "set_a")?,
            binaries(column(&batch, "set_b")?, "set_b")?,
        );
        let verified: Vec<Option<f64>> = py.detach(|| {
            (0..batch.num_rows())
                .into_par_iter()
                .map(|i| {
                    if !self
                        .signer
                        .survives_prefilter(pre_a[i], low_a[i], pre_b[i], low_b[i])
                    {
                        return None;
                    }
                    self.signer.verify(&set_of(set_a[i]), &set_of(set_b[i]))
                })
                .collect()
        });
        let (mut out_a, mut out_b, mut jaccard) = (
            Int64Builder::new(),
            Int64Builder::new(),
            Float64Builder::new(),
        );
        for (i, j) in verified.iter().enumerate() {
            if let (Some(j), Some(x), Some(y)) = (j, a[i], b[i]) {
                out_a.append_value(x);
                out_b.append_value(y);
                jaccard.append_value(*j);
            }
        }
        let fields = vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Int64, false),
            Field::new("jaccard", DataType::Float64, false),
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(out_a.finish()),
            Arc::new(out_b.finish()),
            Arc::new(jaccard.finish()),
        ];
        Ok(PyRecordBatch::new(batch_of(fields, columns)?)
            .into_pyarrow(py)?
            .unbind())
    }
}

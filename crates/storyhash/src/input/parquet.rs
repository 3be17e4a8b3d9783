//! Reading Parquet files. The columns a document needs (id, text, `title`, `url`,
//! `published`; the id and text by the configured names, each a column name or a dotted
//! path into struct columns) are found once per file, read one row group at a time with
//! only their leaf columns decoded, and each row becomes a compact record in the batch
//! (layout at [`encode_row`]) that [`parse_fields`] reads as it reads a JSONL line: one
//! path from raw record to document, the same warnings, the same ids. Dedup's pass 3
//! reads the rows again whole ([`for_each_full_batch`]) to copy the kept ones unchanged.
//!
//! A record's line is its row number in the file (1-based), so a warning reads
//! `corpus.parquet:1234` for row 1,234. A file that cannot be read, a wanted column that
//! is missing or cannot hold what it should, is an [`Error::Parquet`] naming the file,
//! the column and, for a read that fails part-way, the row group.

use std::sync::Arc;

use ::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use ::parquet::arrow::ProjectionMask;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, SchemaRef, TimeUnit};

use super::*;

/// Rows decoded at a time: a few megabytes of news text, and few enough that a batch
/// handed on to the analysis is never much over its byte budget.
const ARROW_BATCH_ROWS: usize = 1024;

/// The document fields, in the order a record holds them.
const SLOTS: usize = 5;
const ID: usize = 0;
const TEXT: usize = 1;
const PUBLISHED: usize = 4;

/// What values a column holds, as far as reading a field from it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Values {
    /// UTF-8 strings (any string type, dictionary-encoded or not).
    Text,
    /// Bytes whose UTF-8 is checked per value (a BYTE_ARRAY column without the string
    /// annotation, as some writers leave text).
    Bytes,
    /// Integers, read as their decimal text (ids; Unix seconds or milliseconds).
    Integer,
    /// A timestamp or date, read as Unix seconds.
    Time,
}

/// One wanted field found in a file's schema.
#[derive(Debug, Clone)]
struct Column {
    /// Field names from the schema's root to the column.
    path: Vec<String>,
    values: Values,
}

/// Where each document field is in one file's schema (None: the file has no such
/// column; only the text is required).
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    slots: [Option<Column>; SLOTS],
}

/// The name each slot is asked for by.
fn slot_names(options: &ReadOptions) -> [&str; SLOTS] {
    [
        &options.id_field,
        &options.text_field,
        &options.title_field,
        &options.url_field,
        &options.published_field,
    ]
}

impl Columns {
    /// Finds the wanted fields in `schema`; errors name `label` and the column.
    fn resolve(schema: &SchemaRef, options: &ReadOptions, label: &Path) -> Result<Columns> {
        let fail = |detail: String| Error::Parquet {
            path: label.to_path_buf(),
            detail,
        };
        let mut slots: [Option<Column>; SLOTS] = Default::default();
        let names = slot_names(options);
        // Precedence when two fields are given one name, as for JSONL: the text, the
        // id, then the title, address and time; the column is the first one's.
        let rank = |slot: usize| match slot {
            TEXT => 0,
            ID => 1,
            other => other,
        };
        for (slot, name) in names.into_iter().enumerate() {
            if (0..SLOTS).any(|other| names[other] == name && rank(other) < rank(slot)) {
                continue;
            }
            let Some((path, field)) = find_field(schema.fields(), name) else {
                if slot == TEXT {
                    let names: Vec<&str> = schema
                        .fields()
                        .iter()
                        .take(MAX_FIELDS_SHOWN)
                        .map(|f| f.name().as_str())
                        .collect();
                    return Err(fail(format!(
                        "no column `{name}` for the text (columns: {}); name it with \
                         --text-field (a dotted path reaches into struct columns)",
                        names.join(", ")
                    )));
                }
                continue;
            };
            if field.data_type() == &DataType::Null {
                // A column of nulls only (as pyarrow types an all-null column): every
                // row is without this field, which for the text is a warning per row.
                continue;
            }
            let values = values_of(field.data_type());
            let accepted = matches!(
                (slot, values),
                (_, Some(Values::Text | Values::Bytes))
                    | (ID, Some(Values::Integer))
                    | (PUBLISHED, Some(Values::Integer | Values::Time))
            );
            if !accepted {
                let expected = match slot {
                    ID => "a string or integer column",
                    PUBLISHED => "a string, integer, timestamp or date column",
                    _ => "a string column",
                };
                return Err(fail(format!(
                    "column `{name}` is of type {}; it must be {expected}",
                    field.data_type()
                )));
            }
            slots[slot] = Some(Column {
                path,
                values: values.unwrap_or(Values::Text),
            });
        }
        Ok(Columns { slots })
    }

    /// The leaf columns of the Parquet schema under the wanted fields.
    fn projection(&self, metadata: &ArrowReaderMetadata) -> ProjectionMask {
        let schema = metadata.parquet_schema();
        let leaves = (0..schema.num_columns()).filter(|&leaf| {
            let parts = schema.column(leaf).path().parts().to_vec();
            self.slots
                .iter()
                .flatten()
                .any(|column| parts.starts_with(&column.path))
        });
        ProjectionMask::leaves(schema, leaves.collect::<Vec<_>>())
    }
}

/// The field named `name`, or reached by the dotted path `name` through struct fields
/// when no top-level field has that name (as JSONL's dotted names do), with its path.
fn find_field<'f>(fields: &'f Fields, name: &str) -> Option<(Vec<String>, &'f Field)> {
    if let Some((_, field)) = fields.find(name) {
        return Some((vec![name.to_string()], field));
    }
    let mut parts = name.split('.');
    let (_, mut field) = fields.find(parts.next()?)?;
    let mut path = vec![field.name().clone()];
    for part in parts {
        let DataType::Struct(children) = field.data_type() else {
            return None;
        };
        field = children.find(part)?.1;
        path.push(part.to_string());
    }
    Some((path, field))
}

fn values_of(data_type: &DataType) -> Option<Values> {
    Some(match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Values::Text,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Values::Bytes,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Values::Integer,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => Values::Time,
        DataType::Dictionary(_, value) => values_of(value)?,
        _ => return None,
    })
}

/// The arrays of one decoded batch that a record is made from.
struct RowSource {
    /// Per slot: the values (decimal text for integers, Unix seconds for times) and
    /// the arrays above them, whose nulls make the value null too.
    slots: [Option<(ArrayRef, Vec<ArrayRef>, Values)>; SLOTS],
}

impl RowSource {
    fn new(batch: &RecordBatch, columns: &Columns) -> std::result::Result<RowSource, String> {
        let mut slots: [Option<(ArrayRef, Vec<ArrayRef>, Values)>; SLOTS] = Default::default();
        for (slot, column) in columns.slots.iter().enumerate() {
            let Some(column) = column else { continue };
            let mut parents = Vec::new();
            let mut array = batch
                .column_by_name(&column.path[0])
                .ok_or_else(|| format!("column `{}` is missing", column.path[0]))?
                .clone();
            for part in &column.path[1..] {
                let child = array
                    .as_struct_opt()
                    .and_then(|s| s.column_by_name(part))
                    .ok_or_else(|| format!("column `{}` is missing", column.path.join(".")))?
                    .clone();
                parents.push(std::mem::replace(&mut array, child));
            }
            let values = normalize(&array, column.values)
                .map_err(|e| format!("column `{}`: {e}", column.path.join(".")))?;
            slots[slot] = Some((values, parents, column.values));
        }
        Ok(RowSource { slots })
    }
}

/// `array` in a form [`encode_row`] reads directly: dictionaries unpacked, integers as
/// decimal text, times as Unix seconds (Int64, from the stored instant: a column's
/// time zone only says how to show it).
fn normalize(array: &ArrayRef, values: Values) -> std::result::Result<ArrayRef, String> {
    let cast = |to: &DataType| arrow_cast::cast(array, to).map_err(|e| e.to_string());
    match (values, array.data_type()) {
        (Values::Text, DataType::Dictionary(..)) => cast(&DataType::LargeUtf8),
        (Values::Bytes, DataType::Dictionary(..)) => cast(&DataType::LargeBinary),
        (Values::Text | Values::Bytes, _) => Ok(array.clone()),
        (Values::Integer, _) => cast(&DataType::LargeUtf8),
        (Values::Time, DataType::Dictionary(_, value)) => {
            let unpacked = cast(value)?;
            normalize(&unpacked, values)
        }
        (Values::Time, data_type) => {
            let seconds: arrow_array::Int64Array = match data_type {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    array.as_primitive::<TimestampSecondType>().unary(|v| v)
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => array
                    .as_primitive::<TimestampMillisecondType>()
                    .unary(|v| v.div_euclid(1_000)),
                DataType::Timestamp(TimeUnit::Microsecond, _) => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .unary(|v| v.div_euclid(1_000_000)),
                DataType::Timestamp(TimeUnit::Nanosecond, _) => array
                    .as_primitive::<TimestampNanosecondType>()
                    .unary(|v| v.div_euclid(1_000_000_000)),
                DataType::Date32 => array
                    .as_primitive::<Date32Type>()
                    .unary(|days| i64::from(days) * 86_400),
                DataType::Date64 => array
                    .as_primitive::<Date64Type>()
                    .unary(|ms| ms.div_euclid(1_000)),
                other => return Err(format!("unexpected type {other}")),
            };
            Ok(Arc::new(seconds))
        }
    }
}

/// Record tags: what follows a slot's tag byte.
const TAG_NULL: u8 = 0;
/// A u32 LE length and that many bytes of UTF-8.
const TAG_TEXT: u8 = 1;
/// A u32 LE length and that many bytes still to be checked as UTF-8.
const TAG_BYTES: u8 = 2;

/// Appends row `row` of `source` to `out` as a record: per slot (id, text, title, url,
/// published) a tag byte, and unless it is [`TAG_NULL`] a little-endian u32 length and
/// the value's bytes. Integers are their decimal text, times their Unix seconds.
fn encode_row(source: &RowSource, row: usize, out: &mut Vec<u8>) {
    for slot in &source.slots {
        let Some((array, parents, values)) = slot else {
            out.push(TAG_NULL);
            continue;
        };
        if array.is_null(row) || parents.iter().any(|p| p.is_null(row)) {
            out.push(TAG_NULL);
            continue;
        }
        let mut put = |tag: u8, bytes: &[u8]| {
            out.push(tag);
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        match (values, array.data_type()) {
            (Values::Time, _) => {
                let seconds = array
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .value(row);
                put(TAG_TEXT, seconds.to_string().as_bytes());
            }
            (_, DataType::Utf8) => put(TAG_TEXT, array.as_string::<i32>().value(row).as_bytes()),
            (_, DataType::LargeUtf8) => {
                put(TAG_TEXT, array.as_string::<i64>().value(row).as_bytes())
            }
            (_, DataType::Utf8View) => put(TAG_TEXT, array.as_string_view().value(row).as_bytes()),
            (_, DataType::Binary) => put(TAG_BYTES, array.as_binary::<i32>().value(row)),
            (_, DataType::LargeBinary) => put(TAG_BYTES, array.as_binary::<i64>().value(row)),
            (_, DataType::BinaryView) => put(TAG_BYTES, array.as_binary_view().value(row)),
            // `normalize` leaves no other type.
            _ => out.push(TAG_NULL),
        }
    }
}

/// Appends row `row` of `source` to `batch` as the record of row `number` (1-based) of
/// file `file`: its bytes, or, over `limit` bytes, none and [`InputProblem::TooLarge`].
fn push_row(
    source: &RowSource,
    row: usize,
    batch: &mut Batch,
    file: usize,
    number: u64,
    limit: u64,
) {
    let start = batch.data.len();
    encode_row(source, row, &mut batch.data);
    let bytes = (batch.data.len() - start) as u64;
    let problem = (bytes > limit).then(|| {
        batch.data.truncate(start);
        InputProblem::TooLarge { bytes, limit }
    });
    batch.records.push(RecordMeta {
        file,
        line: number,
        range: start..batch.data.len(),
        offset: number - 1,
        problem,
    });
}

/// Reads a record made by [`encode_row`] into fields, with the warnings a JSONL line
/// would give: a null or missing text, a blank one, bytes that are not UTF-8. A record
/// that does not decode (bytes from elsewhere) is reported as malformed.
pub(super) fn parse_row<'a>(
    bytes: &'a [u8],
    file: &InputFile,
    row: u64,
    options: &ReadOptions,
) -> Result<RecordFields<'a>, InputProblem> {
    let mut rest = bytes;
    let mut values: [Option<&'a str>; SLOTS] = [None; SLOTS];
    let names = slot_names(options);
    for value in &mut values {
        let malformed = || InputProblem::MalformedJson("not a storyhash row record".into());
        let (&tag, after) = rest.split_first().ok_or_else(malformed)?;
        rest = after;
        if tag == TAG_NULL {
            continue;
        }
        let len_bytes: [u8; 4] = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(malformed)?;
        let len = u32::from_le_bytes(len_bytes) as usize;
        let raw = rest.get(4..4 + len).ok_or_else(malformed)?;
        rest = &rest[4 + len..];
        if tag != TAG_TEXT && tag != TAG_BYTES {
            return Err(malformed());
        }
        // Strings from Arrow are UTF-8 already; checking them too costs little (simdutf8).
        *value = Some(validate_utf8(raw).map_err(|e| InputProblem::InvalidUtf8 {
            byte_offset: e.valid_up_to(),
        })?);
    }
    let text = values[TEXT].ok_or_else(|| InputProblem::MissingField {
        field: names[TEXT].to_string(),
        present: None,
    })?;
    if text.trim().is_empty() {
        return Err(InputProblem::EmptyDocument);
    }
    Ok(RecordFields {
        id: match values[ID] {
            Some(id) => Cow::Borrowed(id),
            None => Cow::Owned(format!("{}:{row}", file.id_base)),
        },
        text: Cow::Borrowed(text),
        title: values[2].map(Cow::Borrowed),
        url: values[3].map(Cow::Borrowed),
        published: values[PUBLISHED].map(Cow::Borrowed),
    })
}

/// An open Parquet file: its metadata, where each field is, and the reading position.
pub(super) struct ParquetRows {
    index: usize,
    file: File,
    metadata: ArrowReaderMetadata,
    columns: Columns,
    mask: ProjectionMask,
    /// The row group being read and its reader; None before the first and between
    /// row groups.
    reader: Option<(usize, ParquetRecordBatchReader)>,
    next_group: usize,
    /// A decoded batch not yet taken whole, and the next row of it to take.
    pending: Option<(RowSource, usize, usize)>,
    /// Rows taken so far.
    rows: u64,
}

/// Runs `work`, which decodes Parquet, turning a panic into an error naming `label`: the
/// Parquet and Arrow decoders still panic on some damaged files (an offset past a
/// buffer's end), and a damaged file must be an error, not a crash.
fn guarded<T>(label: &Path, work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Parquet {
            path: label.to_path_buf(),
            detail: format!("damaged data: the Parquet decoder failed ({message})"),
        })
    })
}

/// Opens `file`'s Parquet metadata.
fn open_metadata(file: &InputFile) -> Result<(File, ArrowReaderMetadata)> {
    let handle = File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
    let metadata = guarded(&file.label, || {
        ArrowReaderMetadata::load(&handle, ArrowReaderOptions::new()).map_err(|e| Error::Parquet {
            path: file.label.clone(),
            detail: format!("not a readable Parquet file ({e})"),
        })
    })?;
    Ok((handle, metadata))
}

/// A reader of row group `group` of `handle` (a clone, so each reader has its own
/// cursor), decoding the columns of `mask`.
fn row_group_reader(
    handle: &File,
    metadata: &ArrowReaderMetadata,
    mask: ProjectionMask,
    group: usize,
    label: &Path,
) -> Result<ParquetRecordBatchReader> {
    let clone = handle.try_clone().map_err(|e| Error::io(label, e))?;
    guarded(label, || {
        ParquetRecordBatchReaderBuilder::new_with_metadata(clone, metadata.clone())
            .with_projection(mask)
            .with_row_groups(vec![group])
            .with_batch_size(ARROW_BATCH_ROWS)
            .build()
            .map_err(|e| Error::Parquet {
                path: label.to_path_buf(),
                detail: format!("row group {group}: {e}"),
            })
    })
}

/// The next decoded batch of `reader` (row group `group`), its failure named.
fn next_decoded(
    reader: &mut ParquetRecordBatchReader,
    group: usize,
    label: &Path,
) -> Result<Option<RecordBatch>> {
    reader.next().transpose().map_err(|e| Error::Parquet {
        path: label.to_path_buf(),
        detail: format!("row group {group}: {e}"),
    })
}

impl ParquetRows {
    /// Opens file number `index` of a reader.
    pub(super) fn open(index: usize, file: &InputFile, options: &ReadOptions) -> Result<Self> {
        let (handle, metadata) = open_metadata(file)?;
        let columns = Columns::resolve(metadata.schema(), options, &file.label)?;
        let mask = columns.projection(&metadata);
        Ok(ParquetRows {
            index,
            file: handle,
            metadata,
            columns,
            mask,
            reader: None,
            next_group: 0,
            pending: None,
            rows: 0,
        })
    }

    /// Takes rows into `batch` until it holds `max_records` records or `max_bytes`
    /// bytes; returns false at the end of the file.
    pub(super) fn fill(
        &mut self,
        file: &InputFile,
        batch: &mut Batch,
        max_records: usize,
        max_bytes: usize,
        limit: u64,
    ) -> Result<bool> {
        guarded(&file.label, || {
            self.fill_unguarded(file, batch, max_records, max_bytes, limit)
        })
    }

    fn fill_unguarded(
        &mut self,
        file: &InputFile,
        batch: &mut Batch,
        max_records: usize,
        max_bytes: usize,
        limit: u64,
    ) -> Result<bool> {
        loop {
            if let Some((source, next, len)) = self.pending.as_mut() {
                while *next < *len {
                    if batch.records.len() >= max_records || batch.data.len() >= max_bytes {
                        return Ok(true);
                    }
                    self.rows += 1;
                    push_row(source, *next, batch, self.index, self.rows, limit);
                    *next += 1;
                }
                self.pending = None;
            }
            let decoded = match self.reader.as_mut() {
                Some((group, reader)) => next_decoded(reader, *group, &file.label)?,
                None => None,
            };
            match decoded {
                Some(decoded) => {
                    let group = self.reader.as_ref().map_or(0, |(g, _)| *g);
                    let source = RowSource::new(&decoded, &self.columns).map_err(|detail| {
                        Error::Parquet {
                            path: file.label.clone(),
                            detail: format!("row group {group}: {detail}"),
                        }
                    })?;
                    self.pending = Some((source, 0, decoded.num_rows()));
                }
                None if self.next_group < self.metadata.metadata().num_row_groups() => {
                    let group = self.next_group;
                    self.next_group += 1;
                    let reader = row_group_reader(
                        &self.file,
                        &self.metadata,
                        self.mask.clone(),
                        group,
                        &file.label,
                    )?;
                    self.reader = Some((group, reader));
                }
                None => {
                    if self.rows == 0 {
                        batch.records.push(RecordMeta {
                            file: self.index,
                            line: 1,
                            range: batch.data.len()..batch.data.len(),
                            offset: 0,
                            problem: Some(InputProblem::EmptyFile),
                        });
                    }
                    return Ok(false);
                }
            }
        }
    }
}

/// Reads every row of `file` with all its columns, calling `each` per decoded batch with
/// the batch and the records of its rows (as [`ParquetRows`] makes them, so a caller
/// can compare them with what an earlier pass read). Records of rows over
/// `options.max_document_bytes` carry [`InputProblem::TooLarge`], as they did then.
pub(crate) fn for_each_full_batch(
    file: &InputFile,
    file_index: usize,
    options: &ReadOptions,
    mut each: impl FnMut(&RecordBatch, &Batch) -> Result<()>,
) -> Result<()> {
    let (handle, metadata) = open_metadata(file)?;
    let columns = Columns::resolve(metadata.schema(), options, &file.label)?;
    let mut records = Batch::default();
    let mut rows = 0u64;
    for group in 0..metadata.metadata().num_row_groups() {
        let mut reader = row_group_reader(
            &handle,
            &metadata,
            ProjectionMask::all(),
            group,
            &file.label,
        )?;
        loop {
            let decoded = guarded(&file.label, || {
                let Some(decoded) = next_decoded(&mut reader, group, &file.label)? else {
                    return Ok(None);
                };
                let source =
                    RowSource::new(&decoded, &columns).map_err(|detail| Error::Parquet {
                        path: file.label.clone(),
                        detail: format!("row group {group}: {detail}"),
                    })?;
                records.data.clear();
                records.records.clear();
                for row in 0..decoded.num_rows() {
                    rows += 1;
                    let limit = options.max_document_bytes;
                    push_row(&source, row, &mut records, file_index, rows, limit);
                }
                Ok(Some(decoded))
            })?;
            let Some(decoded) = decoded else { break };
            each(&decoded, &records)?;
        }
    }
    Ok(())
}

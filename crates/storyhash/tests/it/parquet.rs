//! Parquet in and out: documents read from nested and typed columns, dedup on Parquet
//! equal to dedup on the same rows as JSONL, kept rows copied unchanged, and bad files
//! named with their row group and column.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, StructBuilder};
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int64Array, LargeStringArray, RecordBatch,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use storyhash::dedup::{dedup, DedupOptions, DedupOutputs, KeptFormat};
use storyhash::input::{read_sources, resolve_sources, ReadOptions, Source};
use storyhash::synth::{DupCorpus, SynthDoc};
use storyhash::{Error, Preset};

fn scratch(name: &str) -> crate::Scratch {
    crate::Scratch::new(&format!("pq-{name}"))
}

/// Writes `batch` to `path` in row groups of `group_rows`.
fn write_parquet(path: &Path, batch: &RecordBatch, group_rows: usize) {
    let file = std::fs::File::create(path).expect("create");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
}

/// `docs` as rows of (meta: struct<id, source>, body: large string, rank: int64,
/// seen: timestamp[ms, UTC]): the id nested, the text under another name and type,
/// columns storyhash does not read beside them.
fn nested_batch(docs: &[SynthDoc]) -> RecordBatch {
    let meta_fields = Fields::from(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("source", DataType::Utf8, true),
    ]);
    let mut meta = StructBuilder::new(
        meta_fields.clone(),
        vec![
            Box::new(StringBuilder::new()),
            Box::new(StringBuilder::new()),
        ],
    );
    for (i, d) in docs.iter().enumerate() {
        meta.field_builder::<StringBuilder>(0)
            .expect("id")
            .append_value(&d.id);
        meta.field_builder::<StringBuilder>(1)
            .expect("source")
            .append_value(if i % 2 == 0 { "wire" } else { "web" });
        meta.append(true);
    }
    let body = LargeStringArray::from_iter_values(docs.iter().map(|d| d.text.as_str()));
    let rank = Int64Array::from_iter_values(0..docs.len() as i64);
    let seen = TimestampMillisecondArray::from_iter_values(
        (0..docs.len() as i64).map(|i| 1_700_000_000_000 + i * 1_500),
    )
    .with_timezone("UTC");
    let schema = Schema::new(vec![
        Field::new("meta", DataType::Struct(meta_fields), true),
        Field::new("body", DataType::LargeUtf8, true),
        Field::new("rank", DataType::Int64, false),
        Field::new("published", seen.data_type().clone(), true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(meta.finish()),
        Arc::new(body),
        Arc::new(rank),
        Arc::new(seen),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
}

fn nested_options() -> ReadOptions {
    ReadOptions {
        id_field: "meta.id".into(),
        text_field: "body".into(),
        ..ReadOptions::default()
    }
}

fn corpus() -> Vec<SynthDoc> {
    DupCorpus {
        seed: 29,
        originals: 400,
        copied_fraction: 0.35,
        ..DupCorpus::default()
    }
    .generate()
}

#[test]
fn documents_come_from_nested_and_typed_columns_row_by_row() {
    let dir = scratch("read");
    let docs = corpus();
    let path = dir.join("corpus.parquet");
    write_parquet(&path, &nested_batch(&docs), 97);
    let read = read_sources(&[Source::Path(path.clone())], &nested_options()).expect("read");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.documents.len(), docs.len());
    for (i, (doc, want)) in read.documents.iter().zip(&docs).enumerate() {
        assert_eq!(doc.id, want.id);
        assert_eq!(doc.text, want.text);
        // The row number is the location's line, across row groups.
        assert_eq!(doc.location.line, i as u64 + 1);
        assert_eq!(
            doc.published_time(),
            Some(1_700_000_000 + (i as i64 * 1_500).div_euclid(1_000))
        );
    }
}

#[test]
fn title_address_and_time_come_from_the_columns_named() {
    let dir = scratch("named");
    let docs = corpus();
    let path = dir.join("corpus.parquet");
    write_parquet(&path, &nested_batch(&docs), 97);
    // An integer column as the time (Unix seconds), a nested one as the headline; named
    // for the address too, it is the headline's alone (the first of title, url).
    let named = ReadOptions {
        title_field: "meta.source".into(),
        url_field: "meta.source".into(),
        published_field: "rank".into(),
        ..nested_options()
    };
    let read = read_sources(&[Source::Path(path.clone())], &named).expect("read");
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    for (i, doc) in read.documents.iter().enumerate() {
        let source = if i % 2 == 0 { "wire" } else { "web" };
        assert_eq!(doc.title.as_deref(), Some(source));
        assert_eq!(doc.url, None);
        assert_eq!(doc.published_time(), Some(i as i64));
    }

    let wrong = ReadOptions {
        title_field: "rank".into(),
        ..nested_options()
    };
    let wrong = read_error(&path, &wrong);
    assert!(
        wrong.contains("column `rank` is of type Int64; it must be a string column"),
        "{wrong}"
    );
}

/// Runs dedup on `input`, returning (kept, removed, clusters) bytes.
fn run(input: &Path, read: &ReadOptions, kept_format: KeptFormat) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let files =
        resolve_sources(&[Source::Path(input.to_path_buf())], &mut Vec::new()).expect("input");
    let options = DedupOptions::new(Preset::Dup.params(), read.clone());
    let (mut kept, mut removed, mut clusters) = (Vec::new(), Vec::new(), Vec::new());
    let outputs = DedupOutputs {
        kept: Some(&mut kept),
        removed: Some(&mut removed),
        clusters: Some(&mut clusters),
        kept_format,
        ..DedupOutputs::default()
    };
    dedup(files, &options, outputs, &mut |_| {}, &mut |_| {}).expect("dedup runs");
    (kept, removed, clusters)
}

#[test]
fn dedup_on_parquet_equals_dedup_on_the_same_rows_as_jsonl_and_keeps_rows_unchanged() {
    let dir = scratch("dedup");
    let docs = corpus();
    let parquet = dir.join("corpus.parquet");
    let batch = nested_batch(&docs);
    write_parquet(&parquet, &batch, 128);
    let jsonl = dir.join("corpus.jsonl");
    let mut out = std::fs::File::create(&jsonl).expect("create");
    for d in &docs {
        let line = serde_json::json!({"meta": {"id": d.id}, "body": d.text});
        writeln!(out, "{line}").expect("write");
    }
    drop(out);
    let (kept_lines, removed_jsonl, clusters_jsonl) =
        run(&jsonl, &nested_options(), KeptFormat::JsonLines);
    let (kept_parquet, removed, clusters) = run(&parquet, &nested_options(), KeptFormat::Parquet);
    assert!(!removed.is_empty(), "the corpus has copies");
    assert_eq!(removed, removed_jsonl);
    assert_eq!(clusters, clusters_jsonl);

    // The kept Parquet rows are the input's rows whose ids the JSONL run kept, with the
    // input's schema: every column, nested and typed, as it was.
    let kept_ids: std::collections::HashSet<String> = kept_lines
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).expect("json");
            v["meta"]["id"].as_str().expect("id").to_string()
        })
        .collect();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        bytes::Bytes::from(kept_parquet),
        4096,
    )
    .expect("kept Parquet");
    let kept: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("rows");
    let kept = arrow_select::concat::concat_batches(&batch.schema(), &kept).expect("concat");
    assert_eq!(kept.schema(), batch.schema());
    let keep: Vec<bool> = docs.iter().map(|d| kept_ids.contains(&d.id)).collect();
    let expected =
        arrow_select::filter::filter_record_batch(&batch, &arrow_array::BooleanArray::from(keep))
            .expect("filter");
    assert_eq!(kept, expected);

    // Kept rows as JSON lines carry every column.
    let (kept_json, _, _) = run(&parquet, &nested_options(), KeptFormat::JsonLines);
    let first: serde_json::Value =
        serde_json::from_slice(kept_json.split(|&b| b == b'\n').next().expect("a line"))
            .expect("json");
    assert_eq!(first["meta"]["source"], "wire");
    assert_eq!(first["rank"], 0);
}

#[test]
fn dictionary_text_integer_ids_and_null_rows_read_as_jsonl_would() {
    let dir = scratch("types");
    let text: DictionaryArray<arrow_array::types::Int32Type> = vec![
        Some("alpha beta gamma delta"),
        None,
        Some("  "),
        Some("epsilon zeta eta"),
    ]
    .into_iter()
    .collect();
    let ids = arrow_array::PrimitiveArray::<Int64Type>::from(vec![10, 11, 12, 13]);
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", text.data_type().clone(), true),
    ]);
    let batch =
        RecordBatch::try_new(Arc::new(schema), vec![Arc::new(ids), Arc::new(text)]).expect("batch");
    let path = dir.join("typed.parquet");
    write_parquet(&path, &batch, 1024);
    let read = read_sources(&[Source::Path(path)], &ReadOptions::default()).expect("read");
    let ids: Vec<&str> = read.documents.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["10", "13"]);
    let warned: Vec<String> = read.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(warned[0].contains("typed.parquet:2"), "{}", warned[0]);
    assert!(warned[1].contains("typed.parquet:3") && warned[1].contains("empty document"));
}

fn read_error(path: &Path, options: &ReadOptions) -> String {
    match read_sources(&[Source::Path(path.to_path_buf())], options) {
        Err(e @ Error::Parquet { .. }) => e.to_string(),
        other => panic!("expected a Parquet error, got {other:?}"),
    }
}

#[test]
fn bad_files_and_columns_are_errors_naming_the_file_row_group_and_column() {
    let dir = scratch("bad");
    let docs = corpus();
    let path = dir.join("corpus.parquet");
    write_parquet(&path, &nested_batch(&docs), 100);

    let missing = read_error(&path, &ReadOptions::default());
    assert!(
        missing.contains("corpus.parquet") && missing.contains("no column `text`"),
        "{missing}"
    );
    assert!(
        missing.contains("meta, body"),
        "lists the columns: {missing}"
    );

    let wrong = ReadOptions {
        text_field: "rank".into(),
        ..nested_options()
    };
    let wrong = read_error(&path, &wrong);
    assert!(wrong.contains("column `rank` is of type Int64"), "{wrong}");

    let bytes = std::fs::read(&path).expect("read");
    let truncated = dir.join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let message = read_error(&truncated, &nested_options());
    assert!(
        message.contains("truncated.parquet") && message.contains("not a readable Parquet file"),
        "{message}"
    );

    // Row group 2's first page header overwritten: the footer still reads, the rows of
    // groups 0 and 1 do, and the failure names group 2.
    let metadata = parquet::file::serialized_reader::SerializedFileReader::new(
        std::fs::File::open(&path).expect("open"),
    )
    .expect("metadata");
    use parquet::file::reader::FileReader;
    let column = metadata.metadata().row_group(2).column(0);
    let start = column
        .dictionary_page_offset()
        .unwrap_or(column.data_page_offset()) as usize;
    let mut damaged = bytes.clone();
    damaged[start..start + 24].fill(0xFF);
    let damaged_path = dir.join("damaged.parquet");
    std::fs::write(&damaged_path, &damaged).expect("write");
    let message = read_error(&damaged_path, &nested_options());
    assert!(
        message.contains("damaged.parquet: row group 2"),
        "{message}"
    );
}

#[test]
fn damaged_bytes_anywhere_give_an_error_or_documents_never_a_panic() {
    // The decoders panic on some damaged files; the reader turns those into errors.
    let dir = scratch("mutated");
    let docs: Vec<SynthDoc> = corpus().into_iter().take(60).collect();
    let path = dir.join("corpus.parquet");
    write_parquet(&path, &nested_batch(&docs), 16);
    let bytes = std::fs::read(&path).expect("read");
    let mut rng = storyhash::synth::Rng::new(41);
    let damaged = dir.join("damaged.parquet");
    let mut errors = 0;
    for round in 0..300 {
        let mut copy = bytes.clone();
        for _ in 0..1 + round % 4 {
            let at = rng.range(0, copy.len() - 1);
            copy[at] = copy[at].wrapping_add(1 + rng.range(0, 200) as u8);
        }
        std::fs::write(&damaged, &copy).expect("write");
        let read = std::panic::catch_unwind(|| {
            read_sources(&[Source::Path(damaged.clone())], &nested_options()).is_err()
        });
        match read {
            Ok(refused) => errors += usize::from(refused),
            Err(_) => panic!("round {round}: reading a damaged file panicked"),
        }
    }
    // Most damage lands in page data that still decodes (as other words); some must be
    // refused, or the test damaged nothing that matters.
    assert!(errors > 10, "{errors} of 300 damaged files refused");
}

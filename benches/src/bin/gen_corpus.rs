//! Writes a deterministic news-like corpus with planted near-duplicates as JSONL
//! (`{"id","text"}` per line) and its ground truth (`{"id","label"}` per line: documents
//! sharing a label derive from one original).
//!
//! Usage: `gen_corpus ORIGINALS OUT.jsonl TRUTH.jsonl [SEED] [arabic]`

use std::fs::File;
use std::io::{BufWriter, Write};

use storyhash::synth::{DupCorpus, Script};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: gen_corpus ORIGINALS OUT.jsonl TRUTH.jsonl [SEED] [arabic]".into());
    }
    let originals: usize = args[1].parse()?;
    let seed: u64 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(1);
    let script = match args.get(5).map(String::as_str) {
        Some("arabic") => Script::Arabic,
        _ => Script::Latin,
    };
    let docs = DupCorpus {
        seed,
        script,
        originals,
        ..DupCorpus::default()
    }
    .generate();
    let mut out = BufWriter::new(File::create(&args[2])?);
    let mut truth = BufWriter::new(File::create(&args[3])?);
    for doc in &docs {
        let line = format!(
            "{{\"id\":{},\"text\":{}}}",
            storyhash_bench::json_string(&doc.id),
            storyhash_bench::json_string(&doc.text)
        );
        writeln!(out, "{line}")?;
        writeln!(
            truth,
            "{{\"id\":{},\"label\":{}}}",
            storyhash_bench::json_string(&doc.id),
            doc.label
        )?;
    }
    out.flush()?;
    truth.flush()?;
    eprintln!("wrote {} documents", docs.len());
    Ok(())
}

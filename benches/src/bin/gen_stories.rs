//! Writes a generated multi-event news corpus (`synth::StoryCorpus`) as JSONL:
//! `{"id","text","published","label"}` per line, documents sharing a label being about
//! one event.
//!
//! Usage: `gen_stories OUT.jsonl EVENTS EVENTS_PER_TOPIC SEED [arabic|latin]
//! [MAX_ARTICLES]`: each event gets 1 to MAX_ARTICLES articles (5 unless given).

use std::fs::File;
use std::io::{BufWriter, Write};

use storyhash::synth::{Script, StoryCorpus};

const USAGE: &str =
    "usage: gen_stories OUT.jsonl EVENTS EVENTS_PER_TOPIC SEED [arabic|latin] [MAX_ARTICLES]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        return Err(USAGE.into());
    }
    let script = match args.get(5).map(String::as_str) {
        Some("arabic") => Script::Arabic,
        _ => Script::Latin,
    };
    let defaults = StoryCorpus::default();
    let max_articles = match args.get(6) {
        Some(n) => n.parse()?,
        None => defaults.max_articles,
    };
    let docs = StoryCorpus {
        seed: args[4].parse()?,
        script,
        events: args[2].parse()?,
        events_per_topic: args[3].parse()?,
        max_articles,
        ..defaults
    }
    .generate();
    let mut out = BufWriter::new(File::create(&args[1])?);
    for doc in &docs {
        let published = doc
            .published
            .as_deref()
            .map_or_else(|| "null".to_owned(), storyhash_bench::json_string);
        writeln!(
            out,
            "{{\"id\":{},\"text\":{},\"published\":{published},\"label\":{}}}",
            storyhash_bench::json_string(&doc.id),
            storyhash_bench::json_string(&doc.text),
            doc.label
        )?;
    }
    out.flush()?;
    Ok(())
}

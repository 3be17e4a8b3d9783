//! storyhash finds near-duplicate news articles and groups rewrites of one story.
//!
//! ```text
//!  documents ──► normalize ──► tokenize ──► shingle ──► minhash ──► lsh ──► verify ──► cluster ──► report
//!  (input)       NFKC, fold,   UAX #29      n-gram      k mins of   bands   exact      union-     text /
//!                Arabic rules  words        hash set    seeded hash  ⇒ pairs Jaccard   find       JSON
//! ```
//!
//! 1. [`input`] reads `.txt`, `.jsonl`, directories and stdin into [`Document`]s, turning
//!    bad records into [`Warning`]s that name file and line.
//! 2. [`normalize`] canonicalises text ([`normalize::normalize`]).
//! 3. [`tokenize`] splits words ([`Tokenizer`]), with [`stopwords`] and [`stem`] filters.
//! 4. [`shingle`] hashes word or character n-grams into a sorted set ([`ShingleSpec`]).
//! 5. [`minhash`] signs each set with k minima ([`MinHasher`], [`SignatureMatrix`]).
//! 6. [`lsh`] bands signatures into candidate pairs ([`LshParams`]).
//! 7. [`verify`] keeps pairs whose exact Jaccard reaches the threshold ([`ScoredPair`]).
//! 8. [`cluster`] joins them into clusters ([`Cluster`]).
//! 9. [`report`] explains the clusters to people and machines ([`Report`]).
//!
//! [`pipeline::run`] composes stages 2–8 under one [`Params`], usually a [`Preset`].
//! Three uses build on the same stages: [`dedup`] streams a corpus of any size through
//! them in three passes with bounded memory; [`index`] keeps a persistent, incremental
//! [`Index`] (saved in a checksummed container) for ingestion pipelines; [`story`] groups rewrites of
//! one event with weighted terms and time, copies nested inside.
//!
//! ```
//! use storyhash::{pipeline, Document, Preset};
//!
//! let docs = vec![
//!     Document::new("a", "The minister arrived in Moscow on Monday for talks on energy and trade."),
//!     Document::new("b", "The minister arrived in Moscow on Monday for talks on energy and trade!"),
//!     Document::new("c", "A storm closed the port of Rotterdam for two days this week."),
//! ];
//! let result = pipeline::run(&docs, &Preset::Dup.params())?;
//! assert_eq!(result.clusters[0].members, [0, 1]);
//! assert_eq!(result.clusters.len(), 2);
//! # Ok::<(), storyhash::Error>(())
//! ```

pub mod cluster;
pub mod dedup;
pub mod doc;
pub mod error;
pub mod eval;
pub mod explain;
pub mod extract;
pub mod html;
pub mod index;
pub mod input;
pub mod lsh;
pub mod minhash;
pub mod normalize;
pub mod output;
mod persist;
pub mod pipeline;
pub mod record;
pub mod report;
pub mod shingle;
pub mod stem;
pub mod stopwords;
pub mod story;
#[cfg(feature = "synth")]
pub mod synth;
pub mod tables;
pub mod tokenize;
pub mod verify;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

pub use cluster::{Cluster, KeepPolicy};
pub use doc::{DocIndex, Document};
pub use error::{Error, InputProblem, Location, Result, Warning};
pub use index::{Decision, Index, Match};
pub use lsh::LshParams;
pub use minhash::{MinHasher, SignatureMatrix, SketchKind};
pub use pipeline::{Analyzer, Clustering, Params, Preset};
pub use record::{DocRecord, Engine};
pub use report::Report;
pub use shingle::ShingleSpec;
pub use tokenize::Tokenizer;
pub use verify::ScoredPair;

//! English and Arabic word frequencies: the words wordfreq (Robyn Speer et al.,
//! <https://github.com/rspeer/wordfreq>, version 3.1.1) finds used at least once per
//! million words across its sources (Wikipedia, news, books, subtitles, web text), as a
//! gzip-compressed text table. `storyhash` turns them into a prior of general articles
//! for its story weights, so that a small input still weighs "went" below "Mugabe".
//!
//! The data is wordfreq's, redistributed under the Creative Commons
//! Attribution-ShareAlike 4.0 licence (see LICENSE); it lives in this crate of its own so
//! that the rest of storyhash keeps its MIT or Apache-2.0 licence, and a user who cannot
//! take the data builds storyhash without its `general-frequencies` feature.
//! `make_table.py` rebuilds the table from the pinned wordfreq wheel.
#![forbid(unsafe_code)]

/// The table, gzip-compressed UTF-8 text: one line per frequency, `N<TAB>words`, where
/// the space-separated words are each used 10^(-N/100) of the time (wordfreq's centibel
/// buckets, N from 128 for "the" to 600 for once per million). A word in both
/// languages' lists is at its higher frequency. Words are lowercase as wordfreq writes
/// them, digits replaced by 0.
pub const TABLE_GZ: &[u8] = include_bytes!("../data/wordfreq.txt.gz");

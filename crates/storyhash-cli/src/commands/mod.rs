//! One module per command.

mod cluster;
mod dedup;
mod explain;
mod index;
mod stories;

pub(crate) use cluster::cluster;
pub(crate) use dedup::dedup;
pub(crate) use explain::explain;
pub(crate) use index::index;
pub(crate) use stories::{list_file, report_stories, stories, story_background, story_lists};

//! The story clustering as people and machines read it: text with copies nested under
//! their story, and the JSON tree.

use super::*;
use crate::report::{plural, shorten};

/// A window as people say it: in the largest unit that divides it (`7 days`,
/// `36 hours`, `90 minutes`, `600 seconds`).
pub(super) fn window_text(seconds: i64) -> String {
    let (n, unit) = match seconds {
        s if s > 0 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s > 0 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s > 0 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    plural(n.max(0) as usize, unit)
}

/// The story clustering as people and machines read it: stories, each with its
/// near-duplicate groups, members by id.
#[derive(Debug, Clone, Serialize)]
pub struct StoryReport {
    /// The version of this JSON shape ([`crate::report::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Parameters used.
    pub params: StoryParams,
    /// Documents clustered.
    pub documents: usize,
    /// Background documents whose frequencies were added to the input's.
    pub background_documents: u64,
    /// Terms that weighed nothing as boilerplate, most widespread first (see
    /// [`StoryClustering::boilerplate`]).
    pub boilerplate: Vec<BoilerplateTerm>,
    /// Lines left out as boilerplate, most widespread first (see
    /// [`StoryClustering::boilerplate_lines`]).
    pub boilerplate_lines: Vec<BoilerplateLine>,
    /// Stories, largest first.
    pub stories: Vec<StoryReportEntry>,
    /// Stories left out as smaller than the size asked for
    /// ([`StoryReport::retain_min_size`]).
    pub omitted_stories: usize,
    /// Documents in the omitted stories.
    pub omitted_documents: usize,
}

/// One story in a [`StoryReport`].
#[derive(Debug, Clone, Serialize)]
pub struct StoryReportEntry {
    /// Position in the report.
    pub id: usize,
    /// Documents in the story.
    pub size: usize,
    /// The heaviest terms of the sum of the story's vectors.
    pub top_terms: Vec<String>,
    /// Least mean cosine of a group to the story's other groups.
    pub min_similarity: f64,
    /// The earliest publication time of its documents (RFC 3339, UTC), when any has one.
    pub first_published: Option<String>,
    /// The latest: with the earliest, how long the story ran.
    pub last_published: Option<String>,
    /// Near-duplicate groups in joining order.
    pub groups: Vec<StoryGroupEntry>,
}

impl StoryReportEntry {
    /// The first and last days it ran (`YYYY-MM-DD`), when its documents have times.
    pub fn days(&self) -> Option<(&str, &str)> {
        let (first, last) = self
            .first_published
            .as_deref()
            .zip(self.last_published.as_deref())?;
        Some((day_of(first), day_of(last)))
    }
}

/// The date of an RFC 3339 time.
pub(crate) fn day_of(time: &str) -> &str {
    time.get(..10).unwrap_or(time)
}

/// The earliest and latest publication times of `members`, as RFC 3339 text.
fn time_span(docs: &[Document], members: &[Vec<DocIndex>]) -> (Option<String>, Option<String>) {
    let times = || {
        members
            .iter()
            .flatten()
            .filter_map(|&d| docs[d as usize].published_time())
    };
    let text = crate::doc::published_text;
    (times().min().and_then(text), times().max().and_then(text))
}

/// One near-duplicate group inside a story.
#[derive(Debug, Clone, Serialize)]
pub struct StoryGroupEntry {
    /// Member ids, representative first.
    pub members: Vec<String>,
    /// Headline of the representative, whole (the text form shortens it).
    pub headline: String,
    /// Decayed similarity to the story when the group joined (1 for the founder).
    pub attached_with: f64,
    /// The terms that add most to its mean cosine to the story's other groups (see
    /// [`Story::shared_terms`]).
    pub shared_terms: Vec<String>,
}

impl StoryReport {
    /// Builds the report of `clustering` over `docs`.
    pub fn build(docs: &[Document], clustering: &StoryClustering) -> StoryReport {
        StoryReport {
            schema_version: crate::report::SCHEMA_VERSION,
            omitted_stories: 0,
            omitted_documents: 0,
            params: clustering.params.clone(),
            documents: docs.len(),
            background_documents: clustering.background_documents,
            boilerplate: clustering.boilerplate.clone(),
            boilerplate_lines: clustering.boilerplate_lines.clone(),
            stories: clustering
                .stories
                .iter()
                .enumerate()
                .map(|(id, story)| {
                    let (first_published, last_published) = time_span(docs, &story.groups);
                    StoryReportEntry {
                        id,
                        size: story.len(),
                        top_terms: story.top_terms.clone(),
                        min_similarity: story.min_similarity,
                        first_published,
                        last_published,
                        groups: (story.groups.iter())
                            .zip(&story.attached_with)
                            .zip(&story.shared_terms)
                            .map(|((group, &attached_with), shared)| StoryGroupEntry {
                                members: group
                                    .iter()
                                    .map(|&d| docs[d as usize].id.clone())
                                    .collect(),
                                headline: docs[group[0] as usize].headline().to_owned(),
                                attached_with,
                                shared_terms: shared.clone(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }

    /// Leaves out the stories of fewer than `min_size` documents (counted).
    pub fn retain_min_size(&mut self, min_size: usize) {
        let before = (
            self.stories.len(),
            self.stories.iter().map(|s| s.size).sum::<usize>(),
        );
        self.stories.retain(|s| s.size >= min_size);
        self.omitted_stories += before.0 - self.stories.len();
        self.omitted_documents += before.1 - self.stories.iter().map(|s| s.size).sum::<usize>();
    }

    /// Writes the JSON form.
    pub fn write_json(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        writeln!(out)
    }

    /// Writes the text form: stories, their defining terms, groups indented, copies
    /// indented once more.
    pub fn write_text(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        let p = &self.params;
        writeln!(
            out,
            "storyhash stories: {}, {} ({}: mean cosine to a story >= {:.2}, window {})",
            plural(self.documents, "document"),
            if self.stories.len() == 1 {
                "1 story".to_owned()
            } else {
                format!("{} stories", self.stories.len())
            },
            match p.granularity {
                Granularity::Story => "story",
                Granularity::Event => "event",
            },
            p.threshold,
            window_text(p.window_seconds),
        )?;
        if self.background_documents > 0 {
            writeln!(
                out,
                "idf counts {} besides the input",
                plural(self.background_documents as usize, "background document")
            )?;
        }
        if !self.boilerplate.is_empty() {
            let listed: Vec<String> = self
                .boilerplate
                .iter()
                .map(|b| format!("{} ({:.0}%)", b.term, 100.0 * b.share))
                .collect();
            writeln!(out, "boilerplate, weighing nothing: {}", listed.join(", "))?;
        }
        for line in &self.boilerplate_lines {
            let what = match line.source.as_str() {
                _ if line.listed => "listed line".to_owned(),
                "" => "boilerplate line".to_owned(),
                source => format!("boilerplate line on {source}"),
            };
            writeln!(
                out,
                "{what} ({:.0}%): {}",
                100.0 * line.share,
                shorten(&line.line)
            )?;
        }
        for story in &self.stories {
            writeln!(out)?;
            // Days only: the day is what a reader places a story by.
            let span = match story.days() {
                Some((first, last)) if first == last => format!(", published {first}"),
                Some((first, last)) => format!(", published {first} to {last}"),
                None => String::new(),
            };
            writeln!(
                out,
                "story {}: {}, least mean cosine of a group to the others {:.3}{span}",
                story.id,
                plural(story.size, "document"),
                story.min_similarity
            )?;
            writeln!(out, "  terms: {}", story.top_terms.join(", "))?;
            for group in &story.groups {
                let shared = if group.shared_terms.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", group.shared_terms.join(", "))
                };
                writeln!(
                    out,
                    "  {:.3}  {}  {}{shared}",
                    group.attached_with,
                    printable(&group.members[0]),
                    shorten(&group.headline)
                )?;
                for copy in &group.members[1..] {
                    writeln!(out, "         copy: {}", printable(copy))?;
                }
            }
        }
        if self.omitted_stories > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "{} in {} below the size asked for, not shown",
                plural(self.omitted_documents, "document"),
                if self.omitted_stories == 1 {
                    "1 story".to_owned()
                } else {
                    format!("{} stories", self.omitted_stories)
                }
            )?;
        }
        Ok(())
    }
}

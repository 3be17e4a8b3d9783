//! The story clustering as people and machines read it: text with copies nested under
//! their story, and the JSON tree.

use super::*;

/// The story clustering as people and machines read it: stories, each with its
/// near-duplicate groups, members by id.
#[derive(Debug, Clone, Serialize)]
pub struct StoryReport {
    /// Parameters used.
    pub params: StoryParams,
    /// Documents clustered.
    pub documents: usize,
    /// Stories, largest first.
    pub stories: Vec<StoryReportEntry>,
}

/// One story in a [`StoryReport`].
#[derive(Debug, Clone, Serialize)]
pub struct StoryReportEntry {
    /// Position in the report.
    pub id: usize,
    /// Documents in the story.
    pub size: usize,
    /// The heaviest terms of the story's centroid.
    pub top_terms: Vec<String>,
    /// Least similarity of a group to the story's centroid.
    pub min_similarity: f64,
    /// Near-duplicate groups in joining order.
    pub groups: Vec<StoryGroupEntry>,
}

/// One near-duplicate group inside a story.
#[derive(Debug, Clone, Serialize)]
pub struct StoryGroupEntry {
    /// Member ids, representative first.
    pub members: Vec<String>,
    /// Headline of the representative.
    pub headline: String,
    /// Decayed similarity to the story when the group joined (1 for the founder).
    pub attached_with: f64,
}

impl StoryReport {
    /// Builds the report of `clustering` over `docs`.
    pub fn build(docs: &[Document], clustering: &StoryClustering) -> StoryReport {
        StoryReport {
            params: clustering.params.clone(),
            documents: docs.len(),
            stories: clustering
                .stories
                .iter()
                .enumerate()
                .map(|(id, story)| StoryReportEntry {
                    id,
                    size: story.len(),
                    top_terms: story.top_terms.clone(),
                    min_similarity: story.min_similarity,
                    groups: story
                        .groups
                        .iter()
                        .zip(&story.attached_with)
                        .map(|(group, &attached_with)| StoryGroupEntry {
                            members: group.iter().map(|&d| docs[d as usize].id.clone()).collect(),
                            headline: docs[group[0] as usize]
                                .headline()
                                .chars()
                                .take(72)
                                .collect(),
                            attached_with,
                        })
                        .collect(),
                })
                .collect(),
        }
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
            "storyhash stories: {} documents, {} {} ({}: weighted Jaccard >= {:.2}, \
             window {} days, ICWS k={})",
            self.documents,
            self.stories.len(),
            if self.stories.len() == 1 {
                "story"
            } else {
                "stories"
            },
            match p.granularity {
                Granularity::Story => "story",
                Granularity::Event => "event",
            },
            p.threshold,
            p.window_seconds / 86_400,
            p.num_perm
        )?;
        for story in &self.stories {
            writeln!(out)?;
            writeln!(
                out,
                "story {}: {} documents, least similarity of a group to the final centroid {:.3}",
                story.id, story.size, story.min_similarity
            )?;
            writeln!(out, "  terms: {}", story.top_terms.join(", "))?;
            for group in &story.groups {
                writeln!(
                    out,
                    "  {:.3}  {}  {}",
                    group.attached_with,
                    printable(&group.members[0]),
                    printable(&group.headline)
                )?;
                for copy in &group.members[1..] {
                    writeln!(out, "         copy: {}", printable(copy))?;
                }
            }
        }
        Ok(())
    }
}

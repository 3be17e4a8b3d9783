//! Why two documents are, or are not, in one story: the numbers the story engine decided
//! by, for one pair. Their weighted term vectors' cosine and the terms it is made of,
//! their time apart, where each ended and how close each is to the other's story (the
//! criterion: a group joins the story whose members it resembles most on average, so two
//! documents similar to each other can still end apart when one joined another story
//! first, when the other's story resembles it less on average, when one left a story
//! that drifted from it, when the other's story is never compared with it because it
//! holds too few of its rarest terms, the candidate rule, or when that story holds
//! nothing of its subject, its heaviest terms).

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use super::report::window_text;
use super::{decay, run, term_frequencies, Run, StoryLists, StoryParams};
use crate::doc::{printable, DocIndex, Document};
use crate::error::{Error, Result};
use crate::report::{plural, shorten, SCHEMA_VERSION};
use crate::KeepPolicy;

/// Shared terms an explanation lists, at most (those adding most to the cosine).
const SHARED_LISTED: usize = 12;
/// Terms of one side alone an explanation lists, at most (the heaviest).
const ALONE_LISTED: usize = 8;

/// A term of an explanation, as first written, with its weight in each document's unit
/// vector (0 where it is absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplainedTerm {
    /// The word as written in the document.
    pub term: String,
    /// Its weight in the first and in the second document's vector.
    pub weights: [f64; 2],
}

/// Where one document of the pair ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairSide {
    /// The document's id.
    pub id: String,
    /// Its headline (title, else first line), shortened.
    pub headline: String,
    /// Its story: the position in the `stories` report (0 is the largest).
    pub story: usize,
    /// Documents in that story.
    pub story_size: usize,
    /// The decayed mean cosine its group of copies joined the story with (1 for the
    /// group that founded it).
    pub joined_with: f64,
    /// Its mean cosine to the other document's story at the end of the run, decayed by
    /// its time from that story's latest member: to the members besides itself when
    /// both are in one story; None when further apart than the window.
    pub to_other_story: Option<f64>,
    /// When the two are in different stories: whether its vector finds the other's story
    /// at the end of the run, before any cosine is taken (the candidate rule); None when
    /// both are in one story.
    pub finding_other_story: Option<Finding>,
}

/// Whether one document's vector finds a story through the candidate rule: a story is
/// compared with a document only when it holds enough of the document's rarest terms
/// (those some story holds, at most twelve, heaviest first), and a term a large story
/// holds as by chance does not count unless typical of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The looked-up terms that count towards the story, as first written.
    pub terms: Vec<String>,
    /// How many a story needs: two, or one when the document looks up only one.
    pub needed: usize,
    /// Whether the story is compared: it holds enough of them and ranks among the
    /// sixteen holding most.
    pub compared: bool,
    /// The document's subject, as first written: its two heaviest terms (more on a tie)
    /// among those another document holds too. A story it joins must hold one.
    pub subject: Vec<String>,
    /// Whether the story holds one of them.
    pub holds_subject: bool,
}

/// The story engine's view of one pair of documents.
#[derive(Debug, Clone, Serialize)]
pub struct PairExplanation {
    /// The version of this JSON shape ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The parameters the run used.
    pub params: StoryParams,
    /// The two documents, in the order asked.
    pub sides: [PairSide; 2],
    /// Whether they ended in one story.
    pub same_story: bool,
    /// Whether they are copies in one near-duplicate group, which joins a story whole.
    pub copies: bool,
    /// The cosine of their vectors (each group's vector is its representative's terms).
    pub cosine: f64,
    /// Seconds between their publication times, when both have one.
    pub seconds_apart: Option<i64>,
    /// The time decay between them (1 without both times), None beyond the window.
    pub decay: Option<f64>,
    /// Terms both vectors hold, most added to the cosine first (at most twelve).
    pub shared_terms: Vec<ExplainedTerm>,
    /// For each document, its heaviest terms the other lacks (at most eight).
    pub alone_terms: [Vec<ExplainedTerm>; 2],
}

/// Clusters `docs` into stories as [`super::cluster_stories_with`] does and explains
/// where documents `a` and `b` (input positions) ended and why.
pub fn explain_pair(
    docs: &[Document],
    a: DocIndex,
    b: DocIndex,
    params: &StoryParams,
    keep: KeepPolicy,
    lists: &StoryLists,
) -> Result<PairExplanation> {
    for d in [a, b] {
        if d as usize >= docs.len() {
            return Err(Error::InvalidParams(format!(
                "document {d} asked of an input of {}",
                plural(docs.len(), "document")
            )));
        }
    }
    let mut run = run(docs, params, keep, lists, 0)?;
    let group_of = |d: DocIndex| {
        run.groups
            .iter()
            .position(|g| g.contains(&d))
            .ok_or_else(|| Error::InvalidParams(format!("document {d} is in no group")))
    };
    let groups = [group_of(a)?, group_of(b)?];
    let vectors = groups.map(|g| &run.vectors[g]);
    let words = words_of(&run, docs, groups, params);
    let weights: [HashMap<u32, f64>; 2] =
        vectors.map(|v| v.iter().map(|&(t, w)| (t, f64::from(w))).collect());
    let weight_in = |side: usize, t: u32| weights[side].get(&t).copied().unwrap_or(0.0);
    let term = |t: u32| ExplainedTerm {
        term: words
            .get(&run.vocabulary.hash(t))
            .cloned()
            .unwrap_or_default(),
        weights: [weight_in(0, t), weight_in(1, t)],
    };
    let mut shared: Vec<ExplainedTerm> = vectors[0]
        .iter()
        .filter(|&&(t, _)| weights[1].contains_key(&t))
        .map(|&(t, _)| term(t))
        .collect();
    let cosine = shared.iter().map(|t| t.weights[0] * t.weights[1]).sum();
    shared.sort_by(|x, y| {
        (y.weights[0] * y.weights[1])
            .total_cmp(&(x.weights[0] * x.weights[1]))
            .then_with(|| x.term.cmp(&y.term))
    });
    shared.truncate(SHARED_LISTED);
    let alone = |side: usize| {
        let mut terms: Vec<ExplainedTerm> = vectors[side]
            .iter()
            .filter(|&&(t, _)| !weights[1 - side].contains_key(&t))
            .map(|&(t, _)| term(t))
            .collect();
        terms.sort_by(|x, y| {
            y.weights[side]
                .total_cmp(&x.weights[side])
                .then_with(|| x.term.cmp(&y.term))
        });
        terms.truncate(ALONE_LISTED);
        terms
    };
    let times = [a, b].map(|d| docs[d as usize].published_time());
    let stories = groups.map(|g| run.story_of_group[g]);
    let findings = [0, 1].map(|i| {
        (stories[0] != stories[1]).then(|| {
            let subject = &run.subjects[groups[i]];
            let found =
                (run.attacher).candidacy(vectors[i], subject, &run.vocabulary, stories[1 - i]);
            Finding {
                terms: found.terms.iter().map(|&t| term(t).term).collect(),
                needed: found.needed,
                compared: found.compared,
                subject: found.subject.iter().map(|&t| term(t).term).collect(),
                holds_subject: found.holds_subject,
            }
        })
    });
    let side = |i: usize, d: DocIndex| {
        let story = run.reported_as[stories[i] as usize];
        let reported = &run.clustering.stories[story];
        let joined = reported.groups.iter().position(|g| g.contains(&d));
        let other = &run.attacher.stories[&stories[1 - i]];
        let to_other_story = if stories[0] == stories[1] {
            Some(other.similarity_to_others(vectors[i]))
        } else {
            decay(times[i], other.latest, params.window_seconds)
                .map(|decay| other.similarity(vectors[i]) * decay)
        };
        PairSide {
            id: docs[d as usize].id.clone(),
            headline: shorten(docs[d as usize].headline()),
            story,
            story_size: reported.len(),
            joined_with: joined.map_or(1.0, |g| reported.attached_with[g]),
            to_other_story,
            finding_other_story: findings[i].clone(),
        }
    };
    Ok(PairExplanation {
        schema_version: SCHEMA_VERSION,
        params: params.clone(),
        sides: [side(0, a), side(1, b)],
        same_story: stories[0] == stories[1],
        copies: groups[0] == groups[1],
        cosine,
        seconds_apart: match times {
            [Some(x), Some(y)] => Some(x.abs_diff(y).try_into().unwrap_or(i64::MAX)),
            _ => None,
        },
        decay: decay(times[0], times[1], params.window_seconds),
        shared_terms: shared,
        alone_terms: [alone(0), alone(1)],
    })
}

/// The written form of each term of the two groups' sources (the members they weigh
/// as).
fn words_of(
    run: &Run,
    docs: &[Document],
    groups: [usize; 2],
    params: &StoryParams,
) -> HashMap<u64, String> {
    let mut words = HashMap::new();
    for g in groups {
        let doc = &docs[run.sources[g] as usize];
        term_frequencies(
            &run.analyzer,
            doc,
            params.title_weight,
            &run.exclusions,
            |t, word| {
                words.entry(t).or_insert_with(|| word.to_string());
            },
        );
    }
    words
}

/// Whether document `name`'s vector finds story `other`'s, for people: "b's story holds
/// a's rare terms x, y (2 needed): compared with a; it holds none of a's subject (z,
/// w)".
fn finding_text(name: &str, other: &str, found: &Finding) -> String {
    let held = if found.terms.is_empty() {
        format!("none of {name}'s rare terms")
    } else {
        let listed: Vec<_> = found.terms.iter().map(|t| printable(t)).collect();
        format!("{name}'s rare terms {}", listed.join(", "))
    };
    let (verdict, why) = if found.compared {
        ("compared", "")
    } else if found.terms.len() >= found.needed {
        ("not compared", " (sixteen stories holding more came first)")
    } else {
        ("not compared", "")
    };
    let subject: Vec<_> = found.subject.iter().map(|t| printable(t)).collect();
    let subject = if found.holds_subject {
        String::new()
    } else if subject.is_empty() {
        format!("; {name} has no subject (no heavy term another document holds)")
    } else {
        format!(
            "; it holds none of {name}'s subject ({})",
            subject.join(", ")
        )
    };
    format!(
        "{other}'s story holds {held} ({} needed): {verdict} with {name}{why}{subject}",
        found.needed
    )
}

impl PairExplanation {
    /// Writes the JSON form.
    pub fn write_json(&self, mut out: impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        writeln!(out)
    }

    /// Writes the text form for people.
    pub fn write_text(&self, mut out: impl Write) -> io::Result<()> {
        let [a, b] = &self.sides;
        for (name, side) in [("a", a), ("b", b)] {
            writeln!(out, "{name}  {}  {}", printable(&side.id), side.headline)?;
        }
        let p = &self.params;
        writeln!(
            out,
            "{} granularity: a group joins the story it resembles most, at a mean cosine of \
             at least {:.2} to its members (window {})",
            p.granularity,
            p.threshold,
            window_text(p.window_seconds)
        )?;
        let time = match (self.seconds_apart, self.decay) {
            (None, _) => "without both publication times, no decay".to_owned(),
            (Some(s), Some(d)) => format!("published {} h apart: decay {d:.2}", s / 3600),
            (Some(s), None) => format!("published {} h apart: beyond the window", s / 3600),
        };
        writeln!(
            out,
            "cosine of their term vectors {:.3}; {time}",
            self.cosine
        )?;
        let place = |side: &PairSide| {
            let joined = if side.joined_with >= 1.0 {
                "founding it".to_owned()
            } else {
                format!("joined at {:.3}", side.joined_with)
            };
            format!(
                "story {} ({}, {joined})",
                side.story,
                plural(side.story_size, "document")
            )
        };
        let closeness = |side: &PairSide| {
            side.to_other_story
                .map_or("beyond the window".to_owned(), |s| format!("{s:.3}"))
        };
        if self.copies {
            writeln!(out, "copies of one another: one story, {}", place(a))?;
        } else if self.same_story {
            writeln!(out, "in one story: {}", place(a))?;
            writeln!(
                out,
                "mean cosine to the story's other members: a {}, b {}",
                closeness(a),
                closeness(b)
            )?;
        } else {
            writeln!(
                out,
                "not in one story: a in {}, b in {}",
                place(a),
                place(b)
            )?;
            writeln!(
                out,
                "mean cosine to the other's story: a to b's {}, b to a's {} (threshold {:.2})",
                closeness(a),
                closeness(b),
                p.threshold
            )?;
            for (name, other, side) in [("a", "b", a), ("b", "a", b)] {
                if let Some(found) = &side.finding_other_story {
                    writeln!(out, "{}", finding_text(name, other, found))?;
                }
            }
        }
        if !self.shared_terms.is_empty() {
            writeln!(
                out,
                "shared terms (weight in a, in b, and their product, the term's part of the \
                 cosine):"
            )?;
            for t in &self.shared_terms {
                let product = t.weights[0] * t.weights[1];
                writeln!(
                    out,
                    "  {:<24} {:.3}  {:.3}  {:.3}",
                    printable(&t.term),
                    t.weights[0],
                    t.weights[1],
                    product
                )?;
            }
        }
        for (name, side, terms) in [
            ("a", 0, &self.alone_terms[0]),
            ("b", 1, &self.alone_terms[1]),
        ] {
            if terms.is_empty() {
                continue;
            }
            let listed: Vec<String> = terms
                .iter()
                .map(|t| format!("{} {:.3}", printable(&t.term), t.weights[side]))
                .collect();
            writeln!(out, "heaviest terms of {name} alone: {}", listed.join(", "))?;
        }
        Ok(())
    }
}
